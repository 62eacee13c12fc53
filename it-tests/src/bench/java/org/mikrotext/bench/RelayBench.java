package org.mikrotext.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import java.io.IOException;
import java.io.StringReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The relay's benchmark: starts the relay on Payara Micro with PostgreSQL, drives it over the real protocol
 * (ECDSA-signed, AES-GCM-encrypted MTX1 envelopes over WebSocket, keys and envelopes prepared before timing), and
 * writes {@code target/bench/result.json} and a table. Runs only with {@code -Pbench}; see docs/performance.md.
 */
class RelayBench {

    private static final Path OUT = Path.of("target", "bench");
    private static final int MAX_CAPTURED = 6;
    private static final long T0 = System.nanoTime();

    private final BenchConfig cfg = BenchConfig.load();
    private final Map<String, SenderChain> chains = new ConcurrentHashMap<>();
    private final LoadPhase[] phases = new LoadPhase[128];
    private final StringBuilder log = new StringBuilder();
    private final List<String> disturbed = new ArrayList<>();
    private volatile LoadPhase current;
    private int phaseCounter;
    private BenchServer server;
    /** The second relay instance of the {@code shared} scenario, on the same database; null without it. */
    private BenchServer server2;
    /** Whether the profiled phases also record the whole machine with Linux perf. */
    private boolean perf;
    private WsClient ws;
    private WsClient ws2;
    private Population.Api api;
    private int pgPort = -1;
    private long verifiedSamples;
    private final Handler handler = new Handler();

    @Test
    void benchmark() throws Exception {
        Files.createDirectories(OUT);
        Report report = new Report(cfg);
        int vectors = Mtx1.selfCheck(Path.of(System.getProperty("mtx1.vectors")));
        say("MTX1 self-check: the load generator's crypto agrees with " + vectors + " protocol vectors");
        report.reference.put("mtx1VectorsChecked", vectors);
        report.relayWar = warFingerprint(Path.of(System.getProperty("mikrotext.it.war")));
        say("Relay under test: " + report.relayWar.get("path") + " (sha256 " + report.relayWar.get("sha256") + ")");
        Map<String, String> db = database();
        settle("the reference measurements");
        report.reference.put("sunEcVerifyPerSecOneCore", sunEcVerifyRate());
        report.reference.put("bouncyCastleVerifyPerSecOneCore", bouncyCastleVerifyRate());
        report.reference.put("nativeVerifyPerSecOneCore", nativeVerifyRate());
        report.reference.putAll(pgReference(db));
        say("Reference, same run: ECDSA P-256 verifies on one core: SunEC "
                + report.reference.get("sunEcVerifyPerSecOneCore") + "/s, BouncyCastle "
                + report.reference.get("bouncyCastleVerifyPerSecOneCore") + "/s, native (ACCP) "
                + report.reference.get("nativeVerifyPerSecOneCore") + "/s; PostgreSQL commits "
                + report.reference.get("pgCommitsPerSecOneConnection") + " one-row transactions/s on one connection");

        ExecutorService httpPool = Executors.newFixedThreadPool(8);
        server = new BenchServer(OUT, cfg.relayConfig());
        long started = System.nanoTime();
        server.start(cfg.nofile(), cfg.serverJvmArgs(), cfg.serverMicroArgs(), db);
        say(String.format("Payara Micro (pid %d) serves the relay on port %d after %.0f s; open-file limit %d",
                server.pid(), server.port(), (System.nanoTime() - started) / 1e9, server.openFileLimit()));
        report.relayVerifier = server.logged("Envelope signatures are verified by ");
        say("The relay verifies envelope signatures with " + report.relayVerifier);
        if (cfg.jfr()) {
            // JFR's first start in a JVM is costly (it instruments classes); pay for it now, not in a profiled phase.
            Path init = OUT.resolve("jfr-init.jfr");
            server.jfrStart("init");
            Thread.sleep(3000);
            server.jfrStop("init", init);
            Files.deleteIfExists(init);
        }
        report.serverJvmArgs = cfg.serverJvmArgs();
        report.serverMicroArgs = cfg.serverMicroArgs();
        perf = cfg.jfr() && cfg.perf() && MachineProfile.available(OUT);
        report.perf = !cfg.jfr() || !cfg.perf() ? "off" : perf ? "on" : "not available here (perf missing or not permitted)";
        report.serverFileLimit = server.openFileLimit();
        try {
            api = new Population.Api(server.base(), httpPool);
            ws = new WsClient("127.0.0.1", server.port(), cfg.loops(), cfg.handshakeHeaders());
            if (cfg.runs("shared")) {
                server2 = new BenchServer(Files.createDirectories(OUT.resolve("relay-b")), cfg.relayConfig());
                server2.start(cfg.nofile(), cfg.serverJvmArgs(), cfg.serverMicroArgs(), db);
                ws2 = new WsClient("127.0.0.1", server2.port(), cfg.loops(), cfg.handshakeHeaders());
                for (BenchServer relay : List.of(server, server2)) {
                    if (relay.logged("Rooms are shared with the other relay instances").equals("not logged")) {
                        throw new IllegalStateException("The shared scenario needs MIKROTEXT_CLUSTER_ENABLED=true");
                    }
                }
                say(String.format("A second relay (pid %d) serves the same database on port %d; the two share "
                        + "rooms (mikrotext.cluster.enabled)", server2.pid(), server2.port()));
            }
            if (cfg.runs("fanout") || cfg.runs("slowConsumer") || cfg.runs("knee")) {
                loadScenarios(report);
            }
            if (cfg.runs("deliveries") || cfg.runs("capacity")) {
                deliveriesScenario(report);
            }
            if (cfg.runs("shared")) {
                sharedScenario(report);
            }
            if (cfg.runs("fanout") || cfg.runs("slowConsumer") || cfg.runs("knee") || cfg.runs("deliveries")
                    || cfg.runs("capacity") || cfg.runs("shared")) {
                report.pgTables = pgTableStats(db);
            }
            if (cfg.runs("connections")) {
                report.connections = connections();
            }
        } finally {
            if (ws != null) {
                ws.close();
            }
            if (ws2 != null) {
                ws2.close();
            }
            server.close();
            if (server2 != null) {
                server2.close();
            }
            httpPool.shutdownNow();
        }
        report.verifiedSamples = verifiedSamples;
        report.disturbed = disturbed;
        report.log = log.toString();
        String table = report.table();
        Files.writeString(OUT.resolve("result.json"), report.json());
        Files.writeString(OUT.resolve("result.txt"), table);
        System.out.println();
        System.out.println(table);
        System.out.println("Wrote " + OUT.resolve("result.json").toAbsolutePath());
        if (cfg.runs("fanout")) {
            assertTrue(verifiedSamples > 0, "no delivered envelope was verified and decrypted end to end");
        }
    }

    // ---------------------------------------------------------------- load scenarios (fanout, slow, knee)

    private void loadScenarios(Report report) throws Exception {
        int n = cfg.rooms() * cfg.participantsPerRoom();
        say("Preparing " + cfg.rooms() + " rooms x " + cfg.participantsPerRoom() + " participants (" + n
                + " signing keys) through the REST API");
        long t = System.nanoTime();
        KeyPair[] keys = parallel(n, i -> Mtx1.p256()).toArray(new KeyPair[0]);
        List<Population.Room> rooms = Population.create(api, 0, cfg.rooms(), cfg.participantsPerRoom(),
                i -> keys[i], Mtx1.p256(), 8);
        List<Population.Member> members = new ArrayList<>();
        rooms.forEach(r -> members.addAll(r.members));
        say(String.format("  %d participants joined in %.1f s", members.size(), (System.nanoTime() - t) / 1e9));

        Population.Member stalled = rooms.get(0).members.get(rooms.get(0).members.size() - 1);
        rooms.get(0).members.forEach(m -> m.group = 1);
        stalled.group = 2;
        connect(members);
        say("  " + members.size() + " sockets authenticated and live");

        double rate = n * cfg.ratePerParticipant();
        if (cfg.warmupSeconds() > 0) {
            LoadPhase warm = runPhase("warm-up", rate, cfg.warmupSeconds(), members, false);
            say("warm-up: " + describe(warm));
            // Then hotter, so that the JIT has compiled the high-rate paths before the knee steps measure them.
            LoadPhase hot = runPhase("warm-up x4", rate * 4, cfg.warmupSeconds() / 2, members, false);
            say("warm-up x4: " + describe(hot));
        }
        report.heapAfterGc.put("after warm-up", server.heapUsedAfterGc());
        LoadPhase fanout = null;
        if (cfg.runs("fanout") || cfg.runs("slowConsumer")) {
            fanout = runUndisturbed("fanout", rate, cfg.fanoutSeconds(), members);
            say("fanout: " + describe(fanout));
            report.fanout = fanout;
        }
        if (cfg.runs("slowConsumer")) {
            stall(stalled, true);
            LoadPhase slow = runUndisturbed("slowConsumer", rate, cfg.slowSeconds(), members);
            slow.stalledSocketOpenAtEnd = server.metric("mikrotext_sockets_open") >= members.size();
            say("slowConsumer: " + describe(slow));
            stall(stalled, false);
            report.slow = slow;
        }
        if (cfg.runs("knee")) {
            searchKnee(report.knee, "knee ", cfg.kneeRates(), members);
        }
        report.heapAfterGc.put("after the load phases", server.heapUsedAfterGc());
        Files.writeString(OUT.resolve("class-histogram-after-load.txt"), server.jcmd("GC.class_histogram"));
        if (cfg.jfr()) {
            // Separate phases under JFR and thread dumps, so that the reported phases carry no profiler: one at the
            // fan-out load, one at the rate where the knee was passed (saturation).
            if (cfg.runs("fanout")) {
                LoadPhase profiledFanout = runPhase("profile fanout", rate, cfg.profileSeconds(), members, true,
                        true);
                say("profile fanout (JFR and thread dumps on): " + describe(profiledFanout));
                report.profiledFanout = profiledFanout;
            }
            LoadPhase sat = report.knee.firstBad != null ? report.knee.firstBad
                    : !report.knee.steps.isEmpty() ? report.knee.steps.get(report.knee.steps.size() - 1) : null;
            if (sat != null) {
                LoadPhase profiled = runPhase("profile " + (int) sat.rate + "/s", sat.rate, cfg.profileSeconds(),
                        members, true, true);
                say("profile at saturation (JFR and thread dumps on): " + describe(profiled));
                report.profiled = profiled;
            }
        }
        closeAll(members);
    }

    /**
     * Raises the load step by step over {@code members} until a step is not good (p99 over the limit, errors, or
     * under 90 % of the offered rate accepted); a step that is not good runs once more ({@code bench.knee.retries}),
     * since on a shared machine one stall of the host can push a 12 s step's p99 over the limit.
     */
    private void searchKnee(Report.Knee knee, String prefix, List<Double> rates, List<Population.Member> members)
            throws Exception {
        for (double step : rates) {
            if (!kneeStep(knee, prefix, step, members)) {
                return;
            }
        }
    }

    /** One step of a knee search (run again once if it is not good); false once the knee has been passed. */
    private boolean kneeStep(Report.Knee knee, String prefix, double step, List<Population.Member> members)
            throws Exception {
        LoadPhase phase = null;
        boolean good = false;
        for (int attempt = 0; attempt <= cfg.kneeRetries() && !good; attempt++) {
            String name = prefix + (int) step + "/s" + (attempt == 0 ? "" : " again");
            phase = runUndisturbed(name, step, cfg.kneeSeconds(), members);
            good = phase.latency().p99() <= cfg.kneeP99LimitMs() && phase.errorCount() == 0
                    && phase.acceptedPerSec() >= 0.9 * step;
            say(prefix + "step " + name.substring(prefix.length()) + ": " + describe(phase) + (good ? ""
                    : attempt < cfg.kneeRetries() ? "  <- over the limit; once more" : "  <- past the knee"));
            knee.steps.add(phase);
        }
        if (good) {
            knee.lastGood = phase;
        } else {
            knee.firstBad = phase;
        }
        return good;
    }

    /**
     * The knee again in wider rooms ({@code bench.deliveries.*}, 50 rooms of 11 by default): in rooms of n every
     * envelope makes n - 1 deliveries, so this search measures how many deliveries per second the relay makes, which
     * rooms of 5 cannot show. Its own participants, sockets and a short warm-up at the first rate (not reported).
     * Then, with {@code capacity}, one step far past any knee ({@code bench.capacity.rate}): what the relay accepts
     * and delivers per second when latency is no limit, and how it refuses what it cannot store.
     */
    private void deliveriesScenario(Report report) throws Exception {
        int n = cfg.deliveriesRooms() * cfg.deliveriesParticipantsPerRoom();
        say("Preparing " + cfg.deliveriesRooms() + " rooms x " + cfg.deliveriesParticipantsPerRoom()
                + " participants for the wide knee (" + n + " signing keys)");
        long t = System.nanoTime();
        KeyPair[] keys = parallel(n, i -> Mtx1.p256()).toArray(new KeyPair[0]);
        int firstRoom = 2_000_000;
        int firstKey = firstRoom * cfg.deliveriesParticipantsPerRoom();
        List<Population.Room> rooms = Population.create(api, firstRoom, cfg.deliveriesRooms(),
                cfg.deliveriesParticipantsPerRoom(), i -> keys[i - firstKey], Mtx1.p256(), 8);
        List<Population.Member> members = new ArrayList<>();
        rooms.forEach(r -> members.addAll(r.members));
        connect(members);
        say(String.format("  %d participants joined and live in %.1f s", members.size(),
                (System.nanoTime() - t) / 1e9));
        double first = cfg.deliveriesRates().get(0);
        LoadPhase warm = runPhase("wide warm-up", first, Math.max(10, cfg.warmupSeconds() / 2), members, false);
        say("wide warm-up: " + describe(warm));
        if (cfg.runs("deliveries")) {
            searchKnee(report.deliveries, "wide ", cfg.deliveriesRates(), members);
        }
        if (cfg.runs("capacity")) {
            report.capacity = runUndisturbed("wide capacity " + (int) cfg.capacityRate() + "/s", cfg.capacityRate(),
                    cfg.capacitySeconds(), members);
            say("capacity: " + describe(report.capacity));
        }
        closeAll(members);
    }

    /**
     * Two relay instances on one database sharing rooms ({@code mikrotext.cluster.enabled}, docs/deployment.md): the
     * knee's rooms and rates twice over participants of their own. First every socket is on the first relay (one
     * instance with the setting, the other idle: the baseline of the same run), then each room's participants are
     * split between the two, so that most deliveries go from one instance to the other: stored by one, read from the
     * database by the other after its notification. The two searches take their steps in turn, after warm-ups with
     * the sockets split, on one relay, and split again, so that both relays' code is compiled.
     */
    private void sharedScenario(Report report) throws Exception {
        int n = cfg.rooms() * cfg.participantsPerRoom();
        say("Preparing " + cfg.rooms() + " rooms x " + cfg.participantsPerRoom() + " participants for two relays ("
                + n + " signing keys)");
        KeyPair[] keys = parallel(n, i -> Mtx1.p256()).toArray(new KeyPair[0]);
        int firstRoom = 3_000_000;
        int firstKey = firstRoom * cfg.participantsPerRoom();
        List<Population.Room> rooms = Population.create(api, firstRoom, cfg.rooms(), cfg.participantsPerRoom(),
                i -> keys[i - firstKey], Mtx1.p256(), 8);
        List<Population.Member> members = new ArrayList<>();
        rooms.forEach(r -> members.addAll(r.members));
        double first = cfg.sharedRates().get(0);
        for (boolean split : new boolean[] {true, false, true}) {
            onRelays(members, split);
            LoadPhase warm = runPhase("shared warm-up", first, Math.max(10, cfg.warmupSeconds()), members, false);
            say("shared warm-up (" + (split ? "two relays" : "one relay") + "): " + describe(warm));
        }
        // The two searches step by step in turn, so that what drifts during the run (the JIT, the disk) falls on both.
        for (double step : cfg.sharedRates()) {
            if (report.sharedOne.firstBad == null) {
                onRelays(members, false);
                kneeStep(report.sharedOne, "1 relay ", step, members);
            }
            if (report.sharedTwo.firstBad == null) {
                onRelays(members, true);
                kneeStep(report.sharedTwo, "2 relays ", step, members);
            }
        }
        closeAll(members);
    }

    /** (Re)connects the members: every other participant of each room to the second relay, or all to the first. */
    private void onRelays(List<Population.Member> members, boolean split) throws InterruptedException {
        if (members.get(0).conn != null) {
            closeAll(members);
        }
        members.forEach(m -> m.relay = split ? m.index % 2 : 0);
        connect(members);
        say("  " + members.size() + " sockets live, " + members.stream().filter(m -> m.relay == 1).count()
                + " of them on the second relay");
    }

    private WsClient wsFor(Population.Member m) {
        return m.relay == 1 ? ws2 : ws;
    }

    /** The relay processes: one, or two in the {@code shared} scenario. */
    private long[] relayPids() {
        if (server == null) {
            return new long[0];
        }
        return server2 == null ? new long[] {server.pid()} : new long[] {server.pid(), server2.pid()};
    }

    /** The relays' metrics, counters added up across relays, the longest and quantiles the greater of the two. */
    private Map<String, Double> relayMetrics() {
        Map<String, Double> metrics = server.metrics();
        if (server2 != null) {
            server2.metrics().forEach((name, value) -> metrics.merge(name, value,
                    name.contains("_max") || name.contains("quantile") ? Math::max : Double::sum));
        }
        return metrics;
    }

    private long writeCalls() {
        long sum = 0;
        for (long pid : relayPids()) {
            long calls = ProcStats.writeCalls(pid);
            if (calls < 0) {
                return -1;
            }
            sum += calls;
        }
        return sum;
    }

    private long socketsOpen() {
        return (long) (server.metric("mikrotext_sockets_open")
                + (server2 == null ? 0 : server2.metric("mikrotext_sockets_open")));
    }

    /** Opens a socket per member and waits until each one is in its room's live stream. */
    private void connect(List<Population.Member> members) throws InterruptedException {
        Semaphore inFlight = new Semaphore(50);
        for (Population.Member m : members) {
            inFlight.acquire();
            m.live = false;
            m.conn = wsFor(m).open("/ws/rooms/" + m.room.roomId, handler, m, 0);
            m.conn.upgraded.whenComplete((c, e) -> inFlight.release());
        }
        awaitLive(members, 120);
    }

    /** Waits until every member's socket is live; a socket that ended before (say, 4408 under load) is reopened. */
    private void awaitLive(List<Population.Member> members, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Map<Population.Member, Integer> retries = new HashMap<>();
        while (System.nanoTime() < deadline) {
            if (members.stream().allMatch(m -> m.live)) {
                return;
            }
            for (Population.Member m : members) {
                if (!m.live && m.conn != null && !m.conn.isOpen() && !m.stalled
                        && retries.merge(m, 1, Integer::sum) <= 3) {
                    say("  reopening the socket of " + m.room.index + "/" + m.index);
                    m.conn = wsFor(m).open("/ws/rooms/" + m.room.roomId, handler, m, 0);
                }
            }
            Thread.sleep(50);
        }
        long notLive = members.stream().filter(m -> !m.live).count();
        throw new IllegalStateException(notLive + " sockets did not become live within " + seconds + " s");
    }

    private void closeAll(List<Population.Member> members) throws InterruptedException {
        for (Population.Member m : members) {
            if (m.conn != null) {
                m.conn.close();
            }
        }
        awaitServerSockets(0, 60);
    }

    private void awaitServerSockets(long expected, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline && socketsOpen() != expected) {
            Thread.sleep(250);
        }
    }

    /**
     * Replaces the member's socket: with {@code on}, by one with a small receive buffer that says hello and then
     * never reads again (its sends continue); without, by an ordinary one again.
     */
    private void stall(Population.Member m, boolean on) throws Exception {
        m.conn.close();
        Thread.sleep(200);
        long after = m.room.members.stream().mapToLong(x -> x.lastSeq).max().orElse(0);
        m.lastSeq = after;
        m.stalled = on;
        m.live = false;
        m.conn = wsFor(m).open("/ws/rooms/" + m.room.roomId, handler, m, on ? cfg.stalledReceiveBuffer() : 0);
        if (on) {
            m.conn.upgraded.get(10, TimeUnit.SECONDS);
            Thread.sleep(1000);
            m.live = true;
        } else {
            awaitLive(List.of(m), 30);
        }
    }

    /**
     * One timed phase: every sender sends its prepared envelopes at an even pace so that all together send
     * {@code rate} envelopes/s for {@code seconds}; then the phase waits for outstanding acks and deliveries.
     */
    private LoadPhase runPhase(String name, double rate, int seconds, List<Population.Member> senders,
                               boolean profile) throws Exception {
        return runPhase(name, rate, seconds, senders, profile, false);
    }

    /** Runs a phase, and once more if other processes took CPU from it. */
    private LoadPhase runUndisturbed(String name, double rate, int seconds, List<Population.Member> senders)
            throws Exception {
        LoadPhase phase = runPhase(name, rate, seconds, senders, false);
        if (phase.cpu.other() > cfg.quietOtherCores()) {
            say("  " + name + " was disturbed (other processes used " + String.format("%.2f", phase.cpu.other())
                    + " cores); running it again");
            phase = runPhase(name, rate, seconds, senders, false);
        }
        return phase;
    }

    private LoadPhase runPhase(String name, double rate, int seconds, List<Population.Member> senders,
                               boolean profile, boolean sampleThreads) throws Exception {
        // Sockets that the relay closed in an earlier phase (overload) are reopened first.
        awaitLive(senders.stream().filter(m -> !m.stalled).collect(java.util.stream.Collectors.toList()), 120);
        int number = ++phaseCounter;
        if (number >= phases.length) {
            throw new IllegalStateException("More than " + (phases.length - 1) + " load phases; use fewer knee rates");
        }
        LoadPhase phase = new LoadPhase(name, number, rate, seconds,
                (int) senders.stream().map(m -> m.room).distinct().count(), senders.get(0).room.members.size());
        phases[number] = phase;
        long total = Math.round(rate * seconds);
        int perSender = (int) ((total + senders.size() - 1) / senders.size()) + 1;
        long prep = System.nanoTime();
        List<SenderChain> made = parallel(senders.size(),
                i -> new SenderChain(senders.get(i), phase, number, perSender, cfg.textBytes()));
        for (SenderChain c : made) {
            c.member.chains[number] = c;
            chains.put(c.chainIdB64, c);
        }
        double prepSeconds = (System.nanoTime() - prep) / 1e9;
        // Who should receive each sender's envelopes: the other live, reading members of its room.
        Map<Population.Member, Integer> readers = new LinkedHashMap<>();
        for (Population.Member s : senders) {
            readers.put(s, (int) s.room.members.stream().filter(m -> m != s && m.live && !m.stalled).count());
        }
        List<Population.Member> order = new ArrayList<>(senders);
        Collections.shuffle(order, new Random(number));
        settle(name);
        Map<String, Double> before = relayMetrics();
        long writesBefore = writeCalls();
        long metricsFrom = System.nanoTime();
        long loadGeneratorGc = gcMillis();
        if (profile) {
            server.jfrStart("phase" + number);
        }
        ThreadSampler sampler = sampleThreads ? new ThreadSampler(server, 1000) : null;
        ProcStats.CpuMeter meter = new ProcStats.CpuMeter(relayPids(), pgPort);
        Map<String, Long> threads0 = ProcStats.threadTicks(server.pid());
        long t0 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        phase.windowStart = t0;
        phase.windowEnd = t0 + TimeUnit.SECONDS.toNanos(seconds);
        current = phase;
        meter.start();
        MachineProfile machine = profile && perf
                ? MachineProfile.start(OUT.resolve("perf-" + slug(name) + ".data"), seconds) : null;
        double interval = 1e9 / rate;
        for (long j = 0; j < total; j++) {
            long due = t0 + (long) (j * interval);
            long now = System.nanoTime();
            while (now < due) {
                LockSupport.parkNanos(due - now);
                now = System.nanoTime();
            }
            Population.Member s = order.get((int) (j % order.size()));
            SenderChain chain = s.chains[number];
            int index = chain.next++;
            chain.sentAt.set(index, now);
            phase.senderLag.add(now - due);
            try {
                s.conn.sendText(chain.frames[index]);
                phase.sent.incrementAndGet();
            } catch (IOException e) {
                phase.error("send failed: " + e.getMessage());
            }
        }
        long now = System.nanoTime();
        if (now < phase.windowEnd) {
            LockSupport.parkNanos(phase.windowEnd - now);
        }
        phase.cpu = meter.end();
        Map<String, Double> atWindowEnd = relayMetrics();
        phase.serverAcceptedInWindow = grew(before, atWindowEnd, "mikrotext_envelopes_accepted_total");
        phase.serverDeliveredInWindow = grew(before, atWindowEnd, "mikrotext_envelopes_delivered_total");
        if (sampler != null) {
            sampler.close();
            phase.threads = sampler.summary();
            Files.writeString(OUT.resolve("threads-" + slug(name) + ".txt"), sampler.text(name));
            Files.writeString(OUT.resolve("thread-dump-" + slug(name) + ".txt"), String.valueOf(sampler.firstDump));
        }
        phase.serverThreads = ProcStats.topThreads(threads0, ProcStats.threadTicks(server.pid()),
                phase.cpu.seconds(), 8);
        // Drain: outstanding acks and deliveries may still arrive.
        long expectedDeliveries = 0;
        long expectedAcks = 0;
        for (Population.Member s : senders) {
            SenderChain c = s.chains[number];
            expectedDeliveries += (long) c.next * readers.get(s);
            if (!s.stalled) {
                expectedAcks += c.next;
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(cfg.drainSeconds());
        while (System.nanoTime() < deadline && (phase.delivered.get() + rejectedReaders(phase) < expectedDeliveries
                || phase.acked.get() + rejected(phase) < expectedAcks)) {
            Thread.sleep(20);
        }
        phase.expectedDeliveries = expectedDeliveries;
        phase.expectedAcks = expectedAcks;
        long missingDeliveries = expectedDeliveries - phase.delivered.get() - rejectedReaders(phase);
        long missingAcks = expectedAcks - phase.acked.get() - rejected(phase);
        if (missingDeliveries > 0) {
            phase.errors.computeIfAbsent("deliveries missing " + cfg.drainSeconds() + " s after the phase",
                    k -> new java.util.concurrent.atomic.AtomicLong()).addAndGet(missingDeliveries);
        }
        if (missingAcks > 0) {
            phase.errors.computeIfAbsent("acks missing " + cfg.drainSeconds() + " s after the phase",
                    k -> new java.util.concurrent.atomic.AtomicLong()).addAndGet(missingAcks);
        }
        phase.finished = true;
        current = null;
        Map<String, Double> after = relayMetrics();
        long writesAfter = writeCalls();
        phase.metricsSeconds = (System.nanoTime() - metricsFrom) / 1e9;
        phase.relayWriteCalls = writesBefore < 0 || writesAfter < 0 ? -1 : writesAfter - writesBefore;
        phase.loadGeneratorGcMillis = gcMillis() - loadGeneratorGc;
        phase.groupCommits = grew(before, after, "mikrotext_envelopes_store_seconds_count");
        phase.storeSeconds = grew(before, after, "mikrotext_envelopes_store_seconds_sum");
        phase.storeMaxSeconds = BenchServer.metric(after, "mikrotext_envelopes_store_seconds_max");
        phase.publishSeconds = grew(before, after, "mikrotext_envelopes_publish_seconds_sum");
        phase.publishMaxSeconds = BenchServer.metric(after, "mikrotext_envelopes_publish_seconds_max");
        phase.storeP99Seconds = quantile(after, "mikrotext_envelopes_store_seconds", "0.99");
        phase.publishP99Seconds = quantile(after, "mikrotext_envelopes_publish_seconds", "0.99");
        phase.serverAccepted = grew(before, after, "mikrotext_envelopes_accepted_total");
        if (profile) {
            Path file = OUT.resolve("server-" + slug(name) + ".jfr");
            server.jfrStop("phase" + number, file);
            JfrSummary.Summary summary = JfrSummary.summarize(file, name);
            Files.writeString(OUT.resolve("profile-" + slug(name) + ".txt"), summary.text());
            phase.profile = summary;
        }
        if (machine != null) {
            phase.machine = machine.finish(server, name);
            Files.writeString(OUT.resolve("perf-" + slug(name) + ".txt"), phase.machine.text());
        }
        verifyCaptured(phase);
        for (SenderChain c : made) {
            Arrays.fill(c.frames, null);
        }
        phase.prepareSeconds = prepSeconds;
        return phase;
    }

    private static long rejectedReaders(LoadPhase phase) {
        return phase.rejectedReaders.get();
    }

    private static long rejected(LoadPhase phase) {
        return phase.rejectedSends.get();
    }

    /**
     * The receivers' side, after the phase: each kept envelope is checked the way a client checks it: the
     * signature over the MTX1-ENVELOPE frame with the sender's key, the checkpoint opened with the room key the
     * receiver unwrapped at join, the message key derived from it, and the body decrypted and unpadded.
     */
    private void verifyCaptured(LoadPhase phase) {
        for (LoadPhase.Captured c : phase.captured) {
            JsonObject e;
            try (JsonReader r = Json.createReader(new StringReader(c.frame()))) {
                e = r.readObject();
            }
            String roomId = c.receiver().room.roomId;
            String senderId = e.getString("senderId");
            byte[] chainId = Mtx1.unb64(e.getString("chainId"));
            int index = e.getInt("chainIndex");
            int kv = e.getInt("keyVersion");
            byte[] checkpoint = Mtx1.unb64(e.getString("checkpoint"));
            byte[] nonce = Mtx1.unb64(e.getString("nonce"));
            byte[] ciphertext = Mtx1.unb64(e.getString("ciphertext"));
            byte[] input = Mtx1.envelopeSigningInput(roomId, senderId, kv, chainId, index, checkpoint, nonce,
                    ciphertext);
            if (!senderId.equals(c.chain().member.participantId)
                    || !Mtx1.verify(c.chain().member.signing.getPublic(), input, Mtx1.unb64(e.getString("signature")))) {
                throw new AssertionError("A delivered envelope does not verify: " + c.frame());
            }
            byte[] cpk = Mtx1.checkpointKey(c.receiver().roomKey, roomId, kv);
            byte[] chainKey = Mtx1.openCheckpoint(cpk, checkpoint, Mtx1.checkpointAad(roomId, senderId, kv, chainId,
                    index));
            byte[] body = Mtx1.unpad(Mtx1.decrypt(Mtx1.messageKey(chainKey), nonce, ciphertext,
                    Mtx1.messageAad(roomId, senderId, kv, chainId, index)));
            String text = new String(body, StandardCharsets.UTF_8);
            if (!text.startsWith("{\"text\":\"bench ")) {
                throw new AssertionError("A delivered envelope decrypts to something unexpected: " + text);
            }
            verifiedSamples++;
        }
    }

    private String describe(LoadPhase p) {
        LoadPhase.Percentiles l = p.latency();
        return String.format("offered %.0f/s, accepted %.0f/s, delivered %.0f/s, p50 %.1f ms, p99 %.1f ms, "
                        + "max %.1f ms, errors %d%s; CPU: %s", p.rate, p.acceptedPerSec(), p.deliveredPerSec(),
                l.p50(), l.p99(), l.max(), p.errorCount(), p.errors.isEmpty() ? "" : " " + p.errors,
                p.cpu.describe()) + "\n    relay threads (cores): " + p.serverThreads
                + "\n    relay writer: " + p.writerSummary() + "\n    latency over time: " + p.slowSlices()
                + (p.crossRelay.size() == 0 ? "" : String.format("\n    from one relay to the other: %d deliveries, "
                + "p50 %.1f ms, p99 %.1f ms", p.crossRelay.size(), p.crossRelayLatency().p50(),
                p.crossRelayLatency().p99()))
                + "; load generator GC " + p.loadGeneratorGcMillis + " ms";
    }

    /** Dispatches the frames of the load scenarios' sockets. */
    private final class Handler implements WsClient.Handler {
        private final byte[] typePrefix = "{\"type\":\"".getBytes(StandardCharsets.US_ASCII);
        private final byte[] chainIdKey = "\"chainId\":\"".getBytes(StandardCharsets.US_ASCII);
        private final byte[] chainIndexKey = "\"chainIndex\":".getBytes(StandardCharsets.US_ASCII);
        private final byte[] seqKey = "\"seq\":".getBytes(StandardCharsets.US_ASCII);
        private final byte[] idKey = "\"id\":".getBytes(StandardCharsets.US_ASCII);

        @Override
        public void onUpgraded(WsClient.Conn conn) {
            Population.Member m = (Population.Member) conn.attachment;
            try {
                conn.sendText(m.helloFrame(m.lastSeq));
            } catch (IOException e) {
                conn.close();
                return;
            }
            if (m.stalled) {
                conn.stopReading();
            }
        }

        @Override
        public void onText(WsClient.Conn conn, byte[] b, int off, int len, long now) {
            Population.Member m = (Population.Member) conn.attachment;
            int end = off + len;
            if (!startsWith(b, off, end, typePrefix)) {
                other(m, new String(b, off, len, StandardCharsets.UTF_8));
                return;
            }
            int t = off + typePrefix.length;
            if (startsWith(b, t, end, "envelope\"")) {
                long seq = number(b, find(b, off, end, seqKey), end);
                if (seq > m.lastSeq) {
                    m.lastSeq = seq;
                }
                int c = find(b, off, end, chainIdKey);
                if (c < 0) {
                    return;
                }
                SenderChain chain = chains.get(new String(b, c, 22, StandardCharsets.US_ASCII));
                if (chain == null || chain.phase.finished) {
                    return;
                }
                int index = (int) number(b, find(b, off, end, chainIndexKey), end);
                long sentAt = chain.sentAt.get(index);
                if (chain.member == m) {
                    chain.phase.echoes.incrementAndGet();
                    return;
                }
                chain.phase.delivery(m.group, now - sentAt, now);
                if (chain.member.relay != m.relay) {
                    chain.phase.crossRelay.add(now - sentAt);
                }
                if (index % SenderChain.CHECKPOINT_INTERVAL == 0
                        && chain.phase.capturedCount.incrementAndGet() <= MAX_CAPTURED) {
                    chain.phase.captured.add(new LoadPhase.Captured(m, chain,
                            new String(b, off, len, StandardCharsets.UTF_8)));
                }
            } else if (startsWith(b, t, end, "ack\"")) {
                long id = number(b, find(b, off, end, idKey), end);
                LoadPhase phase = phases[SenderChain.phaseOf(id)];
                SenderChain chain = m.chains[SenderChain.phaseOf(id)];
                if (phase != null && chain != null && !phase.finished) {
                    phase.ack(now - chain.sentAt.get(SenderChain.indexOf(id)), now);
                }
            } else if (startsWith(b, t, end, "participants\"")) {
                m.live = true;
            } else if (!startsWith(b, t, end, "ready\"") && !startsWith(b, t, end, "pong\"")) {
                other(m, new String(b, off, len, StandardCharsets.UTF_8));
            }
        }

        /** Error frames and anything unexpected. */
        private void other(Population.Member m, String text) {
            JsonObject frame;
            try (JsonReader r = Json.createReader(new StringReader(text))) {
                frame = r.readObject();
            } catch (RuntimeException e) {
                LoadPhase p = current;
                if (p != null) {
                    p.error("unparsable frame");
                }
                return;
            }
            String type = frame.getString("type", "");
            if ("envelope".equals(type) || "ack".equals(type) || "participants".equals(type)) {
                return; // only reached if the relay reorders its fields; not counted
            }
            LoadPhase p = current;
            if ("error".equals(type) && frame.containsKey("id") && frame.get("id") instanceof jakarta.json.JsonNumber n) {
                LoadPhase owner = phases[SenderChain.phaseOf(n.longValue())];
                if (owner != null) {
                    p = owner;
                    SenderChain chain = m.chains[owner.number];
                    owner.rejectedSends.incrementAndGet();
                    owner.rejectedReaders.addAndGet(chain == null ? 0 : chain.member.room.members.stream()
                            .filter(x -> x != m && x.live && !x.stalled).count());
                }
            }
            if (p != null) {
                p.error(type + " " + frame.getInt("code", 0) + " " + frame.getString("message", ""));
            }
        }

        @Override
        public void onClose(WsClient.Conn conn, int code, String reason) {
            Population.Member m = (Population.Member) conn.attachment;
            if (m.conn == conn) {
                m.live = false;
            }
            if (!conn.isClosing()) {
                LoadPhase p = current;
                if (p != null) {
                    p.error("socket closed by the server: " + code + " " + reason);
                }
                if (!"client stopped".equals(reason)) {
                    say("  socket of " + m.room.index + "/" + m.index + " closed: " + code + " " + reason);
                }
            }
        }

        private boolean startsWith(byte[] b, int at, int end, String s) {
            if (end - at < s.length()) {
                return false;
            }
            for (int i = 0; i < s.length(); i++) {
                if (b[at + i] != s.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        private boolean startsWith(byte[] b, int at, int end, byte[] s) {
            if (end - at < s.length) {
                return false;
            }
            for (int i = 0; i < s.length; i++) {
                if (b[at + i] != s[i]) {
                    return false;
                }
            }
            return true;
        }

        /** The index just after {@code key} in {@code b[from, to)}, or -1. */
        private int find(byte[] b, int from, int to, byte[] key) {
            outer:
            for (int i = from; i <= to - key.length; i++) {
                for (int j = 0; j < key.length; j++) {
                    if (b[i + j] != key[j]) {
                        continue outer;
                    }
                }
                return i + key.length;
            }
            return -1;
        }

        private long number(byte[] b, int at, int end) {
            if (at < 0) {
                return -1;
            }
            long v = 0;
            for (int i = at; i < end && b[i] >= '0' && b[i] <= '9'; i++) {
                v = v * 10 + (b[i] - '0');
            }
            return v;
        }
    }

    // ---------------------------------------------------------------- connections (idle sockets)

    /** A socket of the idle-connections scenario. */
    private static final class Idle {
        final Population.Member member;
        volatile boolean live;
        volatile boolean failed;
        volatile WsClient.Conn conn;

        Idle(Population.Member member) {
            this.member = member;
        }
    }

    private Map<String, Object> connections() throws Exception {
        awaitServerSockets(0, 60);
        long self = ProcessHandle.current().pid();
        long serverLimit = server.openFileLimit();
        long clientLimit = ProcStats.openFileLimit(self);
        int serverFds = server.openFiles();
        int clientFds = ProcStats.openFiles(self);
        int target = cfg.connectionsTarget();
        // Each socket is one descriptor in the server and one here; keep a margin for files, pools and JDBC.
        long room = Math.min(serverLimit - serverFds, clientLimit - clientFds) - 300;
        int sockets = (int) Math.min(target, room);
        String limitedBy = null;
        if (sockets < target) {
            limitedBy = String.format("open-file limits: server %d (hard limit could not be raised: %s), load "
                            + "generator %d; %d and %d descriptors already in use", serverLimit,
                    serverLimit < cfg.nofile() ? "not permitted here" : "raised", clientLimit, serverFds, clientFds);
            say("connections: aiming for " + sockets + " instead of " + target + " sockets: " + limitedBy);
        }
        int perSocket = Math.max(1, cfg.connectionsSocketsPerParticipant());
        int participants = (sockets + perSocket - 1) / perSocket;
        int rooms = (participants + cfg.connectionsPerRoom() - 1) / cfg.connectionsPerRoom();
        KeyPair[] keyPool = parallel(16, i -> Mtx1.p256()).toArray(new KeyPair[0]);
        long t = System.nanoTime();
        ProcStats.CpuMeter setupCpu = new ProcStats.CpuMeter(server.pid(), pgPort).start();
        List<Population.Room> made = Population.create(api, 1_000_000, rooms, cfg.connectionsPerRoom(),
                i -> keyPool[i % keyPool.length], Mtx1.p256(), 8);
        List<Population.Member> members = new ArrayList<>();
        made.forEach(r -> members.addAll(r.members));
        say(String.format("connections: %d participants in %d rooms joined in %.1f s (%d REST calls; CPU: %s)",
                members.size(), rooms, (System.nanoTime() - t) / 1e9, rooms + 2L * (members.size() - rooms),
                setupCpu.end().describe()));

        List<Map<String, Object>> steps = new ArrayList<>();
        settle("the idle-socket baseline");
        long heap0 = server.heapUsedAfterGc();
        String histogram0 = server.jcmd("GC.class_histogram");
        Files.writeString(OUT.resolve("class-histogram-sockets-0.txt"), histogram0);
        String histogramN = histogram0;
        long rss0 = server.rssBytes();
        Map<String, Object> base = new LinkedHashMap<>();
        base.put("sockets", 0);
        base.put("serverSocketsOpen", (long) server.metric("mikrotext_sockets_open"));
        base.put("heapUsedBytes", heap0);
        base.put("rssBytes", rss0);
        base.put("serverOpenFiles", server.openFiles());
        steps.add(base);
        say(String.format("connections: baseline heap %.1f MiB, RSS %.1f MiB", heap0 / 1048576.0, rss0 / 1048576.0));

        AtomicInteger failures = new AtomicInteger();
        Map<String, Integer> failureKinds = new ConcurrentHashMap<>();
        List<Idle> idle = new ArrayList<>();
        Semaphore inFlight = new Semaphore(cfg.connectionsInFlight());
        WsClient.Handler idleHandler = new WsClient.Handler() {
            @Override
            public void onUpgraded(WsClient.Conn conn) {
                Idle i = (Idle) conn.attachment;
                try {
                    conn.sendText(i.member.helloFrame(0));
                } catch (IOException e) {
                    conn.close();
                }
            }

            @Override
            public void onText(WsClient.Conn conn, byte[] b, int off, int len, long now) {
                Idle i = (Idle) conn.attachment;
                if (!i.live && new String(b, off, Math.min(len, 30), StandardCharsets.US_ASCII)
                        .startsWith("{\"type\":\"participants\"")) {
                    i.live = true;
                    inFlight.release();
                }
            }

            @Override
            public void onClose(WsClient.Conn conn, int code, String reason) {
                Idle i = (Idle) conn.attachment;
                if (conn.isClosing()) {
                    return;
                }
                if (!i.failed) {
                    i.failed = true;
                    failures.incrementAndGet();
                    failureKinds.merge(code + " " + reason, 1, Integer::sum);
                }
                if (!i.live) {
                    inFlight.release();
                }
                i.live = false;
            }
        };
        int reached = 0;
        long reachedHeap = heap0;
        long reachedRss = rss0;
        for (int s = 1; s <= cfg.connectionsSteps(); s++) {
            int stepTarget = (int) Math.round((double) sockets * s / cfg.connectionsSteps());
            long stepStart = System.nanoTime();
            ProcStats.CpuMeter stepCpu = new ProcStats.CpuMeter(server.pid(), pgPort).start();
            Map<String, Long> threads0 = ProcStats.threadTicks(server.pid());
            while (idle.size() < stepTarget) {
                if (!inFlight.tryAcquire(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("Handshakes stopped progressing at " + idle.size() + " sockets");
                }
                Idle i = new Idle(members.get((idle.size() / perSocket) % members.size()));
                i.conn = ws.open("/ws/rooms/" + i.member.room.roomId, idleHandler, i, 0);
                idle.add(i);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (System.nanoTime() < deadline && idle.stream().anyMatch(i -> !i.live && !i.failed)) {
                Thread.sleep(100);
            }
            double openSeconds = (System.nanoTime() - stepStart) / 1e9;
            ProcStats.CpuUse opening = stepCpu.end();
            Map<String, Double> openingThreads = ProcStats.topThreads(threads0, ProcStats.threadTicks(server.pid()),
                    opening.seconds(), 5);
            Thread.sleep(3000);
            long live = idle.stream().filter(i -> i.live).count();
            long serverOpen = (long) server.metric("mikrotext_sockets_open");
            long heap = server.heapUsedAfterGc();
            long rss = server.rssBytes();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("sockets", live);
            row.put("serverSocketsOpen", serverOpen);
            row.put("heapUsedBytes", heap);
            row.put("rssBytes", rss);
            row.put("heapBytesPerSocket", live == 0 ? 0 : (heap - heap0) / live);
            row.put("rssBytesPerSocket", live == 0 ? 0 : (rss - rss0) / live);
            row.put("serverOpenFiles", server.openFiles());
            row.put("failures", failures.get());
            int openedInStep = stepTarget - (steps.size() == 1 ? 0 : ((Number) steps
                    .get(steps.size() - 1).get("opened")).intValue());
            row.put("handshakesPerSec", Math.round(openedInStep / openSeconds));
            // The relay's CPU per socket opened (upgrade, hello, ready, catch-up): steadier than the rate, which
            // also moves with whatever else this machine runs.
            row.put("relayCpuMsPerHandshake",
                    Math.round(opening.server() * openSeconds * 1e5 / openedInStep) / 100.0);
            row.put("opened", stepTarget);
            row.put("cpuCoresWhileOpening", Map.of("server", opening.server(), "postgres", opening.database(),
                    "loadGenerator", opening.loadGenerator(), "other", opening.other()));
            row.put("relayThreadsCoresWhileOpening", openingThreads);
            steps.add(row);
            say(String.format("connections: %d live sockets (server counts %d): heap %.1f MiB (%d B/socket), "
                            + "RSS %.1f MiB (%d B/socket), %d failures; %s handshakes/s (relay CPU %s ms each), "
                            + "CPU while opening: %s%n"
                            + "    relay threads (cores): %s", live, serverOpen, heap / 1048576.0,
                    row.get("heapBytesPerSocket"), rss / 1048576.0, row.get("rssBytesPerSocket"), failures.get(),
                    row.get("handshakesPerSec"), row.get("relayCpuMsPerHandshake"), opening.describe(),
                    openingThreads));
            if (failures.get() > Math.max(10, idle.size() / 200)) {
                say("connections: stopping, too many failures: " + failureKinds);
                break;
            }
            reached = (int) live;
            reachedHeap = heap;
            reachedRss = rss;
            if (s == cfg.connectionsSteps()) {
                histogramN = server.jcmd("GC.class_histogram");
                Files.writeString(OUT.resolve("class-histogram-sockets-" + live + ".txt"), histogramN);
            }
        }
        for (Idle i : idle) {
            i.conn.close();
        }
        awaitServerSockets(0, 120);
        Thread.sleep(2000);
        long heapAfter = server.heapUsedAfterGc();
        String histogramClosed = server.jcmd("GC.class_histogram");
        Files.writeString(OUT.resolve("class-histogram-sockets-closed.txt"), histogramClosed);
        say(String.format("connections: after closing them all, heap %.1f MiB", heapAfter / 1048576.0));
        List<Map<String, Object>> byClass = histogramDelta(histogram0, histogramN, reached, 20);
        List<Map<String, Object>> retained = histogramDelta(histogram0, histogramClosed, reached, 10);

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sockets", reached);
        out.put("heapBytesPerSocket", reached == 0 ? 0 : (reachedHeap - heap0) / reached);
        out.put("rssBytesPerSocket", reached == 0 ? 0 : (reachedRss - rss0) / reached);
        out.put("target", target);
        out.put("limitedBy", limitedBy);
        out.put("handshake", cfg.handshake());
        out.put("participants", members.size());
        out.put("rooms", rooms);
        out.put("socketsPerParticipant", perSocket);
        out.put("heapSlopeBytesPerSocket", slope(steps, "heapUsedBytes"));
        out.put("rssSlopeBytesPerSocket", slope(steps, "rssBytes"));
        if (cfg.serverJvmArgs().contains("-XX:+AlwaysPreTouch")) {
            out.put("rssMeans", "memory outside the Java heap only: the relay's heap is resident from its start "
                    + "(-XX:+AlwaysPreTouch)");
        }
        out.put("heapUsedAfterClosingAllBytes", heapAfter);
        out.put("heapUsedBaselineBytes", heap0);
        out.put("rssBaselineBytes", rss0);
        out.put("failures", failures.get());
        out.put("failureKinds", failureKinds);
        out.put("steps", steps);
        out.put("heapPerSocketByClass", byClass);
        out.put("retainedAfterCloseByClass", retained);
        return out;
    }

    /** The classes whose heap grew most between two GC.class_histogram outputs, per socket. */
    private static List<Map<String, Object>> histogramDelta(String before, String after, long sockets, int limit) {
        Map<String, long[]> a = histogram(before);
        Map<String, long[]> b = histogram(after);
        List<Map<String, Object>> out = new ArrayList<>();
        b.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), new long[] {
                        e.getValue()[0] - a.getOrDefault(e.getKey(), new long[2])[0],
                        e.getValue()[1] - a.getOrDefault(e.getKey(), new long[2])[1]}))
                .sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]))
                .limit(limit)
                .forEach(e -> {
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("class", e.getKey());
                    row.put("instancesPerSocket", Math.round(100.0 * e.getValue()[0] / Math.max(1, sockets)) / 100.0);
                    row.put("bytesPerSocket", Math.round((double) e.getValue()[1] / Math.max(1, sockets)));
                    out.add(row);
                });
        return out;
    }

    private static Map<String, long[]> histogram(String text) {
        Map<String, long[]> out = new HashMap<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)")
                .matcher(text);
        while (m.find()) {
            out.merge(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))},
                    (x, y) -> new long[] {x[0] + y[0], x[1] + y[1]});
        }
        return out;
    }

    /** Least-squares bytes per socket over the steps. */
    private static long slope(List<Map<String, Object>> steps, String field) {
        double n = 0;
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (Map<String, Object> s : steps) {
            double x = ((Number) s.get("sockets")).doubleValue();
            double y = ((Number) s.get(field)).doubleValue();
            n++;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        double d = n * sxx - sx * sx;
        return d == 0 ? 0 : Math.round((n * sxy - sx * sy) / d);
    }

    // ---------------------------------------------------------------- references measured in the same run

    /** How much one of the relay's counters (or a timer's count or sum) grew from one read of its metrics to another. */
    private static double grew(Map<String, Double> before, Map<String, Double> after, String name) {
        return BenchServer.metric(after, name) - BenchServer.metric(before, name);
    }

    /** A timer's quantile as the relay reports it (over its recent window), or -1. */
    private static double quantile(Map<String, Double> metrics, String timer, String q) {
        for (Map.Entry<String, Double> e : metrics.entrySet()) {
            if (e.getKey().startsWith(timer + "{") && e.getKey().contains("quantile=\"" + q + "\"")) {
                return e.getValue();
            }
        }
        return -1;
    }

    /** Time the load generator's own JVM has spent in garbage collection, in ms. */
    private static long gcMillis() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
    }

    /** ECDSA P-256 verifications per second on one thread with the JDK's SunEC. */
    private static long sunEcVerifyRate() throws Exception {
        return verifyRate(Mtx1.signer(), null);
    }

    /**
     * The same with BouncyCastle, as the relay verifies where the native provider does not load or is turned off
     * (EnvelopeSignatures): the key converted once to BouncyCastle's own key object, which keeps its tables.
     */
    private static long bouncyCastleVerifyRate() throws Exception {
        java.security.Provider bc = new org.bouncycastle.jce.provider.BouncyCastleProvider();
        return verifyRate(Signature.getInstance("SHA256withPLAIN-ECDSA", bc),
                java.security.KeyFactory.getInstance("EC", bc));
    }

    /**
     * The same with the Amazon Corretto Crypto Provider (AWS-LC), which the relay prefers where it loads
     * (EnvelopeSignatures); -1 where it does not load.
     */
    private static long nativeVerifyRate() throws Exception {
        var accp = com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider.INSTANCE;
        if (accp.getLoadingError() != null) {
            return -1;
        }
        return verifyRate(Signature.getInstance("SHA256withECDSAinP1363Format", accp),
                java.security.KeyFactory.getInstance("EC", accp));
    }

    private static long verifyRate(Signature v, java.security.KeyFactory convert) throws Exception {
        KeyPair kp = Mtx1.p256();
        byte[] data = Mtx1.random(600);
        byte[] sig = Mtx1.sign(Mtx1.signer(), kp.getPrivate(), data);
        java.security.PublicKey key = convert == null ? kp.getPublic()
                : convert.generatePublic(new java.security.spec.X509EncodedKeySpec(kp.getPublic().getEncoded()));
        long warm = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < warm) {
            v.initVerify(key);
            v.update(data);
            v.verify(sig);
        }
        long n = 0;
        long t0 = System.nanoTime();
        long end = t0 + TimeUnit.SECONDS.toNanos(3);
        while (System.nanoTime() < end) {
            v.initVerify(key);
            v.update(data);
            if (!v.verify(sig)) {
                throw new AssertionError();
            }
            n++;
        }
        return Math.round(n / ((System.nanoTime() - t0) / 1e9));
    }

    /** The database the relay uses: the one named by bench.db.url / DB_URL, else the embedded one of the ITs. */
    private Map<String, String> database() {
        Map<String, String> db = new LinkedHashMap<>();
        if (cfg.dbUrl() != null) {
            db.put("DB_URL", cfg.dbUrl());
            db.put("DB_USER", cfg.dbUser());
            db.put("DB_PASSWORD", cfg.dbPassword());
        } else {
            db.put("DB_URL", System.getenv("DB_URL"));
            db.put("DB_USER", System.getenv("DB_USER"));
            db.put("DB_PASSWORD", System.getenv("DB_PASSWORD"));
        }
        URI uri = URI.create(db.get("DB_URL").substring("jdbc:".length()));
        pgPort = uri.getPort() < 0 ? 5432 : uri.getPort();
        return db;
    }

    private static Connection connect(Map<String, String> db) throws java.sql.SQLException {
        return DriverManager.getConnection(db.get("DB_URL"), db.get("DB_USER"), db.get("DB_PASSWORD"));
    }

    /** PostgreSQL's version, durability settings, and one-row commits per second on one connection. */
    private Map<String, Object> pgReference(Map<String, String> db) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        try (Connection c = connect(db);
             Statement st = c.createStatement()) {
            Map<String, String> settings = new LinkedHashMap<>();
            for (String s : List.of("server_version", "fsync", "synchronous_commit", "full_page_writes",
                    "shared_buffers", "max_connections")) {
                try (ResultSet rs = st.executeQuery("SHOW " + s)) {
                    rs.next();
                    settings.put(s, rs.getString(1));
                }
            }
            out.put("pgSettings", settings);
            out.put("pgEmbedded", cfg.dbUrl() == null);
            st.execute("DROP TABLE IF EXISTS bench_commit_probe");
            st.execute("CREATE TABLE bench_commit_probe (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)");
            byte[] body = Mtx1.random(700);
            long n = 0;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_commit_probe (body) VALUES (?)")) {
                long t0 = System.nanoTime();
                long end = t0 + TimeUnit.SECONDS.toNanos(2);
                while (System.nanoTime() < end) {
                    ps.setBytes(1, body);
                    ps.executeUpdate();
                    n++;
                }
                out.put("pgCommitsPerSecOneConnection", Math.round(n / ((System.nanoTime() - t0) / 1e9)));
            }
            st.execute("DROP TABLE bench_commit_probe");
        }
        return out;
    }

    /**
     * PostgreSQL's own counters for the relay's tables after the load phases (since the database started): how each
     * was read (sequential or index scans), written (inserts, updates, of them HOT, deletes), and how many dead row
     * versions wait for vacuum.
     */
    private List<Map<String, Object>> pgTableStats(Map<String, String> db) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Connection c = connect(db);
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins, n_tup_upd, "
                     + "n_tup_hot_upd, n_tup_del, n_live_tup, n_dead_tup, autovacuum_count, "
                     + "pg_total_relation_size(relid) AS bytes FROM pg_stat_user_tables ORDER BY relname")) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("table", rs.getString(1));
                for (int i = 2; i <= columns; i++) {
                    row.put(rs.getMetaData().getColumnLabel(i), rs.getLong(i));
                }
                out.add(row);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- helpers

    /** Which relay was measured: the WAR's SHA-256 and the libraries it carries. */
    private static Map<String, Object> warFingerprint(Path war) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("path", war.toAbsolutePath().normalize().toString());
        out.put("sha256", java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(war))));
        List<String> libs = new ArrayList<>();
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(war.toFile())) {
            zip.stream().map(java.util.zip.ZipEntry::getName)
                    .filter(n -> n.startsWith("WEB-INF/lib/") && n.endsWith(".jar"))
                    .map(n -> n.substring("WEB-INF/lib/".length())).sorted().forEach(libs::add);
        }
        out.put("libraries", libs);
        return out;
    }

    private interface IndexFunction<T> {
        T apply(int i) throws Exception;
    }

    /** Runs {@code f(0..n-1)} on all cores (setup only, never timed). */
    private static <T> List<T> parallel(int n, IndexFunction<T> f) throws Exception {
        int threads = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<T>>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int from = (int) ((long) n * t / threads);
                int to = (int) ((long) n * (t + 1) / threads);
                parts.add(pool.submit(() -> {
                    List<T> out = new ArrayList<>();
                    for (int i = from; i < to; i++) {
                        out.add(f.apply(i));
                    }
                    return out;
                }));
            }
            List<T> out = new ArrayList<>(n);
            for (Future<List<T>> p : parts) {
                out.addAll(p.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static String slug(String name) {
        return name.replaceAll("[^A-Za-z0-9]+", "-").replaceAll("-+$", "");
    }

    private synchronized void say(String line) {
        String stamped = String.format("[bench +%4.0fs] %s", (System.nanoTime() - T0) / 1e9, line);
        System.out.println(stamped);
        log.append(stamped).append('\n');
    }

    /**
     * Waits (up to bench.quiet.maxWaitSeconds) until the relay and PostgreSQL are idle, so that no backlog of the
     * previous phase runs into the next, and until other processes on the machine use less than
     * bench.quiet.otherCores, since they would take CPU from the relay. Returns what the last second looked like.
     */
    private ProcStats.CpuUse settle(String before) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(cfg.quietMaxWaitSeconds());
        int waited = 0;
        while (true) {
            ProcStats.CpuMeter m = new ProcStats.CpuMeter(relayPids(), pgPort).start();
            Thread.sleep(1000);
            ProcStats.CpuUse u = m.end();
            boolean idle = u.server() + u.database() < 0.25;
            boolean quiet = u.other() < cfg.quietOtherCores();
            if (idle && quiet) {
                if (waited > 1) {
                    say("  waited " + waited + " s for an idle relay and a quiet machine before " + before);
                }
                return u;
            }
            if (System.nanoTime() > deadline) {
                say("  going on with " + before + " although the machine is not quiet: " + u.describe());
                disturbed.add(before + ": " + u.describe());
                return u;
            }
            waited++;
        }
    }
}
