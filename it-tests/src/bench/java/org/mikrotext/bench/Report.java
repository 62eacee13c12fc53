package org.mikrotext.bench;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import jakarta.json.stream.JsonGenerator;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The benchmark's results: {@code result.json} (the fields the issue asks for, and more) and the printed table. */
final class Report {

    final BenchConfig cfg;
    final Map<String, Object> reference = new LinkedHashMap<>();
    final Map<String, Object> machineDetail = machine();
    LoadPhase fanout;
    LoadPhase slow;
    /** The knee in the fan-out topology (rooms of {@code bench.participantsPerRoom}). */
    final Knee knee = new Knee("knee");
    /** The knee again in wider rooms ({@code bench.deliveries.*}): how many deliveries per second the relay makes. */
    final Knee deliveries = new Knee("wide knee");
    /** The {@code shared} scenario: the knee's search with every socket on one relay, then split between two. */
    final Knee sharedOne = new Knee("one-relay knee");
    final Knee sharedTwo = new Knee("two-relay knee");
    /** One step far past any knee, in the wide rooms: what the relay accepts and delivers when latency is no limit. */
    LoadPhase capacity;
    LoadPhase profiled;
    LoadPhase profiledFanout;
    final Map<String, Object> heapAfterGc = new LinkedHashMap<>();
    Map<String, Object> connections;
    long verifiedSamples;
    List<String> disturbed = List.of();
    String log;
    List<String> serverJvmArgs;
    /** PostgreSQL's counters per table of the relay after the load phases. */
    List<Map<String, Object>> pgTables = List.of();
    /** Payara Micro options beyond the ones every run uses ({@code bench.server.microArgs}). */
    List<String> serverMicroArgs = List.of();
    /** Whether the profiled phases recorded the whole machine with Linux perf ("on", "off", or why not). */
    String perf = "off";
    Map<String, Object> relayWar = Map.of();
    /** The provider that verifies envelope signatures in the relay, from its log. */
    String relayVerifier = "not logged";
    long serverFileLimit;

    Report(BenchConfig cfg) {
        this.cfg = cfg;
    }

    /** One search for the knee: its steps in order, the last good step and the first that was not good. */
    static final class Knee {
        final String label;
        final List<LoadPhase> steps = new ArrayList<>();
        LoadPhase lastGood;
        LoadPhase firstBad;

        Knee(String label) {
            this.label = label;
        }

        /** The rooms its steps ran in (every step runs over the same participants); 0 if none ran. */
        int rooms() {
            return steps.isEmpty() ? 0 : steps.get(0).rooms;
        }

        int participantsPerRoom() {
            return steps.isEmpty() ? 0 : steps.get(0).participantsPerRoom;
        }

        double acceptedPerSec() {
            return lastGood == null ? 0 : lastGood.acceptedPerSec();
        }

        double deliveredPerSec() {
            return lastGood == null ? 0 : lastGood.deliveredPerSec();
        }

        String mark(LoadPhase p) {
            return p == lastGood ? " <= " + label : p == firstBad ? " (past the " + label + ")" : "";
        }
    }

    String machineLine() {
        return String.format("%d cores (%s), %.1f GiB memory, %s %s; load generator, relay and PostgreSQL share "
                        + "these cores", machineDetail.get("cores"), machineDetail.get("cpu"),
                ((Number) machineDetail.get("memoryBytes")).longValue() / 1073741824.0,
                System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"));
    }

    private static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        String cpu = "unknown CPU";
        for (String line : ProcStats.read("/proc/cpuinfo").split("\n")) {
            if (line.startsWith("model name")) {
                cpu = line.substring(line.indexOf(':') + 1).trim();
                break;
            }
        }
        m.put("cpu", cpu);
        long memKb = 0;
        for (String line : ProcStats.read("/proc/meminfo").split("\n")) {
            if (line.startsWith("MemTotal:")) {
                memKb = Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        m.put("memoryBytes", memKb * 1024);
        m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("javaHome", System.getProperty("java.home"));
        m.put("kernel", ProcStats.read("/proc/sys/kernel/osrelease").trim());
        m.put("memoryMonitor", memoryMonitor());
        return m;
    }

    /**
     * The kernel's DAMON memory monitors that are running, with what they do to cold pages: a {@code pageout} scheme
     * on this kind of VM wakes every sampling interval and reclaims pages the processes have not touched lately,
     * which shows in commit times and the latency tail at light load (docs/performance.md, after 6). "none" if no
     * monitor runs or the kernel has none.
     */
    static String memoryMonitor() {
        String base = "/sys/kernel/mm/damon/admin/kdamonds/";
        List<String> on = new ArrayList<>();
        for (int k = 0; ; k++) {
            String state = ProcStats.read(base + k + "/state").trim();
            if (state.isEmpty()) {
                break;
            }
            if (!"on".equals(state)) {
                continue;
            }
            String dir = base + k + "/contexts/0/";
            List<String> actions = new ArrayList<>();
            for (int i = 0; ; i++) {
                String action = ProcStats.read(dir + "schemes/" + i + "/action").trim();
                if (action.isEmpty()) {
                    break;
                }
                actions.add(action);
            }
            String sample = ProcStats.read(dir + "monitoring_attrs/intervals/sample_us").trim();
            on.add(String.format("DAMON kdamond.%d on (%s, samples every %s ms, schemes: %s)", k,
                    ProcStats.read(dir + "operations").trim(),
                    sample.isEmpty() ? "?" : String.valueOf(Long.parseLong(sample) / 1000),
                    actions.isEmpty() ? "none" : String.join(", ", actions)));
        }
        return on.isEmpty() ? "none" : String.join("; ", on);
    }

    // ------------------------------------------------------------------------------------------------ JSON

    String json() {
        JsonObjectBuilder root = Json.createObjectBuilder();
        root.add("machine", machineLine());
        root.add("fanout", fanoutJson());
        root.add("knee", kneeJson(knee));
        root.add("connections", connectionsJson());
        root.add("slowConsumer", slowJson());
        root.add("command", cfg.command());
        root.add("machineDetail", toJson(machineDetail));
        root.add("sharedMachine", "The load generator (one JVM), the relay (Payara Micro) and PostgreSQL run on the "
                + "same cores; cpuCores in each phase says who used how much.");
        root.add("rateLimitsRaisedByConfiguration", toJson(cfg.relayConfig()));
        root.add("relayConfigNote", "Only the rate limits above differ from the relay's defaults; they were raised "
                + "through environment variables (MicroProfile Config), no code was changed. The fan-out rate per "
                + "participant stays within the default limit (20 per 10 s).");
        root.add("serverJvmArgs", toJson(serverJvmArgs));
        root.add("serverMicroArgs", toJson(serverMicroArgs));
        root.add("perf", perf);
        root.add("relayWar", toJson(relayWar));
        root.add("relayVerifier", relayVerifier);
        root.add("reference", toJson(reference));
        root.add("disturbedPhases", toJson(disturbed));
        root.add("targets", targetsJson());
        root.add("kneeSteps", phasesJson(knee.steps));
        JsonObjectBuilder wide = Json.createObjectBuilder(kneeJson(deliveries));
        wide.add("why", "the same search in wider rooms: a room of n participants makes n - 1 deliveries per "
                + "envelope, so rooms of 5 (the knee above) cannot show 50,000 deliveries/s below 12,500 envelopes/s");
        root.add("deliveries", wide);
        root.add("deliveriesSteps", phasesJson(deliveries.steps));
        if (capacity != null) {
            root.add("capacity", Json.createObjectBuilder(phasesJson(List.of(capacity)).build().getJsonObject(0))
                    .add("rooms", capacity.rooms).add("participantsPerRoom", capacity.participantsPerRoom)
                    .add("why", "one step offered far more than the knee: how many envelopes per second the "
                            + "senders had acknowledged, and how many deliveries the receivers had, within the step, "
                            + "when latency is no limit. Its latency is how long envelopes waited anywhere: in the "
                            + "relay, in the kernel's socket buffers, and for the load generator's own threads on a "
                            + "shared machine. The relay's own counts within the step (serverAcceptedPerSec, "
                            + "serverDeliveredPerSecInclEcho) are what it stored and handed to sockets; it refuses "
                            + "sends with an error 503 (in errorKinds) while 20,000 envelopes, or 64 MiB of their "
                            + "ciphertext, are in flight (not yet stored and handed out)"));
        }
        if (!sharedOne.steps.isEmpty() || !sharedTwo.steps.isEmpty()) {
            root.add("shared", Json.createObjectBuilder()
                    .add("why", "two relay instances on one database, sharing rooms (mikrotext.cluster.enabled): the "
                            + "same rooms and rates with every socket on the first relay (the baseline), then with "
                            + "each room's participants split between the two; cpuCores.server is both relays")
                    .add("oneRelay", kneeJson(sharedOne)).add("oneRelaySteps", phasesJson(sharedOne.steps))
                    .add("twoRelays", kneeJson(sharedTwo)).add("twoRelaysSteps", phasesJson(sharedTwo.steps)));
        }
        List<LoadPhase> profiles = new ArrayList<>();
        if (profiled != null) {
            profiles.add(profiled);
        }
        if (profiledFanout != null) {
            profiles.add(profiledFanout);
        }
        root.add("profiledPhases", phasesJson(profiles));
        root.add("relayHeapUsedAfterFullGcBytes", toJson(heapAfterGc));
        root.add("pgTablesAfterLoad", toJson(pgTables));
        root.add("endToEndChecks", Json.createObjectBuilder()
                .add("deliveredEnvelopesVerifiedAndDecrypted", verifiedSamples)
                .add("mtx1VectorsChecked", ((Number) reference.getOrDefault("mtx1VectorsChecked", 0)).intValue()));
        root.add("config", Json.createObjectBuilder()
                .add("rooms", cfg.rooms()).add("participantsPerRoom", cfg.participantsPerRoom())
                .add("ratePerParticipant", cfg.ratePerParticipant()).add("textBytes", cfg.textBytes())
                .add("warmupSeconds", cfg.warmupSeconds()).add("fanoutSeconds", cfg.fanoutSeconds())
                .add("slowSeconds", cfg.slowSeconds()).add("kneeSeconds", cfg.kneeSeconds())
                .add("kneeRates", toJson(cfg.kneeRates())).add("kneeP99LimitMs", cfg.kneeP99LimitMs())
                .add("kneeRetries", cfg.kneeRetries())
                .add("deliveriesRooms", cfg.deliveriesRooms())
                .add("deliveriesParticipantsPerRoom", cfg.deliveriesParticipantsPerRoom())
                .add("deliveriesRates", toJson(cfg.deliveriesRates()))
                .add("capacityRate", cfg.capacityRate()).add("capacitySeconds", cfg.capacitySeconds())
                .add("drainSeconds", cfg.drainSeconds()).add("stalledReceiveBuffer", cfg.stalledReceiveBuffer())
                .add("connectionsTarget", cfg.connectionsTarget()).add("connectionsSteps", cfg.connectionsSteps())
                .add("jfr", cfg.jfr()));
        StringWriter out = new StringWriter();
        try (var writer = Json.createWriterFactory(Map.of(JsonGenerator.PRETTY_PRINTING, true)).createWriter(out)) {
            writer.writeObject(root.build());
        }
        return out.toString().trim() + "\n";
    }

    private JsonObject fanoutJson() {
        JsonObjectBuilder b = Json.createObjectBuilder();
        if (fanout == null) {
            return b.add("rooms", 0).add("participantsPerRoom", 0).add("seconds", 0).add("acceptedPerSec", 0)
                    .add("deliveredPerSec", 0).add("p50Ms", 0).add("p99Ms", 0).add("maxMs", 0).add("errors", 0)
                    .add("skipped", true).build();
        }
        LoadPhase.Percentiles l = fanout.latency();
        b.add("rooms", fanout.rooms).add("participantsPerRoom", fanout.participantsPerRoom)
                .add("seconds", fanout.seconds)
                .add("acceptedPerSec", r1(fanout.acceptedPerSec())).add("deliveredPerSec", r1(fanout.deliveredPerSec()))
                .add("p50Ms", l.p50()).add("p99Ms", l.p99()).add("maxMs", l.max()).add("errors", fanout.errorCount());
        details(b, fanout);
        return b.build();
    }

    private JsonObject kneeJson(Knee k) {
        JsonObjectBuilder b = Json.createObjectBuilder();
        if (k.lastGood == null) {
            b.add("acceptedPerSec", 0).add("deliveredPerSec", 0).add("p99Ms", 0);
            b.add("note", k.steps.isEmpty() ? "not run" : "even the first step was past the knee");
        } else {
            b.add("acceptedPerSec", r1(k.lastGood.acceptedPerSec()))
                    .add("deliveredPerSec", r1(k.lastGood.deliveredPerSec()))
                    .add("p99Ms", k.lastGood.latency().p99())
                    .add("offeredPerSec", k.lastGood.rate)
                    .add("p50Ms", k.lastGood.latency().p50())
                    .add("cpuCores", cpuJson(k.lastGood.cpu));
        }
        b.add("rooms", k.rooms()).add("participantsPerRoom", k.participantsPerRoom());
        b.add("rule", "load rises step by step (envelopes/s offered by all participants together); a step is good "
                + "while p99 <= " + cfg.kneeP99LimitMs() + " ms, there are no errors and >= 90% of the offered rate "
                + "is accepted; a step that is not good runs " + cfg.kneeRetries() + " more time(s) (\"again\" in "
                + "the steps) and is good if one of them is; the knee is the last good step");
        if (k.firstBad != null) {
            LoadPhase.Percentiles l = k.firstBad.latency();
            b.add("firstBadStep", Json.createObjectBuilder().add("offeredPerSec", k.firstBad.rate)
                    .add("acceptedPerSec", r1(k.firstBad.acceptedPerSec()))
                    .add("deliveredPerSec", r1(k.firstBad.deliveredPerSec()))
                    .add("p99Ms", l.p99()).add("maxMs", l.max()).add("errors", k.firstBad.errorCount())
                    .add("cpuCores", cpuJson(k.firstBad.cpu)));
        } else if (!k.steps.isEmpty()) {
            b.add("firstBadStep", JsonValue.NULL);
            b.add("note", "no step passed the limits; the knee is at or above the highest step offered");
        }
        return b.build();
    }

    private JsonObject connectionsJson() {
        if (connections == null) {
            return Json.createObjectBuilder().add("sockets", 0).add("heapBytesPerSocket", 0)
                    .add("rssBytesPerSocket", 0).add("skipped", true).build();
        }
        return toJson(connections).asJsonObject();
    }

    private JsonObject slowJson() {
        JsonObjectBuilder b = Json.createObjectBuilder();
        if (slow == null || fanout == null) {
            return b.add("p99MsWithout", 0).add("p99MsWith", 0).add("skipped", true).build();
        }
        double without = fanout.latency(0, 1).p99();
        double with = slow.latency(0, 1).p99();
        b.add("p99MsWithout", without).add("p99MsWith", with)
                .add("ratio", without == 0 ? 0 : r2(with / without))
                .add("roomMatesP99MsWithout", fanout.latency(1).p99())
                .add("roomMatesP99MsWith", slow.latency(1).p99())
                .add("roomMatesRatio", fanout.latency(1).p99() == 0 ? 0
                        : r2(slow.latency(1).p99() / fanout.latency(1).p99()))
                .add("errorsWith", slow.errorCount())
                .add("stalledSocketStillOpenAtEnd", slow.stalledSocketOpenAtEnd)
                .add("acceptedPerSecWith", r1(slow.acceptedPerSec()))
                .add("deliveredPerSecWith", r1(slow.deliveredPerSec()))
                .add("seconds", slow.seconds)
                .add("stalledReceiveBufferBytes", cfg.stalledReceiveBuffer())
                .add("how", "'without' is the fan-out phase, 'with' the same load again while one participant "
                        + "(in room 0) reads nothing from its socket (it says hello on a socket with a "
                        + cfg.stalledReceiveBuffer() + "-byte receive buffer and then never reads; it keeps sending). "
                        + "Both p99s are over every other participant's deliveries; roomMates* only over the stalled "
                        + "participant's room.");
        return b.build();
    }

    private void details(JsonObjectBuilder b, LoadPhase p) {
        LoadPhase.Percentiles l = p.latency();
        LoadPhase.Percentiles acks = LoadPhase.Percentiles.of(p.acks.sorted());
        LoadPhase.Percentiles lag = LoadPhase.Percentiles.of(p.senderLag.sorted());
        b.add("offeredPerSec", p.rate)
                .add("ratePerParticipant", r2(p.rate / (p.rooms * p.participantsPerRoom)))
                .add("p90Ms", l.p90()).add("p999Ms", l.p999())
                .add("latencySamples", l.count())
                .add("ackP50Ms", acks.p50()).add("ackP99Ms", acks.p99())
                .add("serverAcceptedPerSec", r1(p.serverAcceptedInWindow / p.windowSeconds()))
                .add("serverDeliveredPerSecInclEcho", r1(p.serverDeliveredInWindow / p.windowSeconds()))
                .add("senderLagP99Ms", lag.p99())
                .add("envelopePreparationSeconds", r1(p.prepareSeconds))
                .add("cpuCores", cpuJson(p.cpu))
                .add("relayThreadsCores", toJson(p.serverThreads))
                .add("relayWriter", p.writerSummary())
                .add("relayWriteCallsPerEnvelope",
                        p.writeCallsPerEnvelope() < 0 ? -1 : r2(p.writeCallsPerEnvelope()))
                .add("slowSlices", p.slowSlices())
                .add("errorKinds", toJson(p.errors));
        if (p.profile != null) {
            b.add("jfrStageShares", toJson(p.profile.stageShares()));
            b.add("jfrTopMethods", toJson(p.profile.topMethods()));
            b.add("jfrTopWaits", toJson(p.profile.topWaits()));
        }
        if (p.machine != null) {
            b.add("perfByThread", toJson(p.machine.byThread()));
            b.add("perfKernel", toJson(p.machine.kernel()));
            b.add("perfTopSymbols", toJson(p.machine.topSymbols()));
        }
        if (p.threads != null) {
            b.add("threadDumps", toJson(p.threads));
        }
        b.add("deliveredMeans", "envelope frames received by the other participants of the sender's room "
                + "(not the sender's own echo), within the timing window");
    }

    private JsonArrayBuilder phasesJson(List<LoadPhase> list) {
        JsonArrayBuilder a = Json.createArrayBuilder();
        for (LoadPhase p : list) {
            LoadPhase.Percentiles l = p.latency();
            JsonObjectBuilder b = Json.createObjectBuilder()
                    .add("name", p.name).add("seconds", p.seconds)
                    .add("acceptedPerSec", r1(p.acceptedPerSec())).add("deliveredPerSec", r1(p.deliveredPerSec()))
                    .add("p50Ms", l.p50()).add("p99Ms", l.p99()).add("maxMs", l.max())
                    .add("errors", p.errorCount());
            if (p.crossRelay.size() > 0) {
                LoadPhase.Percentiles cross = p.crossRelayLatency();
                b.add("crossRelayDeliveries", cross.count()).add("crossRelayP50Ms", cross.p50())
                        .add("crossRelayP99Ms", cross.p99());
            }
            details(b, p);
            a.add(b);
        }
        return a;
    }

    private static JsonObject cpuJson(ProcStats.CpuUse c) {
        if (c == null) {
            return JsonValue.EMPTY_JSON_OBJECT;
        }
        return Json.createObjectBuilder().add("server", r2(c.server())).add("loadGenerator", r2(c.loadGenerator()))
                .add("postgres", r2(c.database())).add("other", r2(c.other()))
                .add("machineBusy", r2(c.machineBusy())).build();
    }

    private JsonObject targetsJson() {
        JsonObjectBuilder b = Json.createObjectBuilder();
        b.add("acceptedPerSec", target(knee.acceptedPerSec(), 5000, true));
        Knee wide = deliveriesKnee();
        b.add("deliveredPerSec", Json.createObjectBuilder(target(wide.deliveredPerSec(), 50000, true))
                .add("from", wide == deliveries ? "deliveries" : "knee"));
        if (connections != null) {
            b.add("heapBytesPerIdleSocket", target(((Number) connections.get("heapBytesPerSocket")).doubleValue(),
                    20 * 1024, false));
        }
        if (slow != null && fanout != null) {
            double without = fanout.latency(0, 1).p99();
            b.add("stalledClientP99Ratio", target(without == 0 ? 0 : slow.latency(0, 1).p99() / without, 2, false));
        }
        if (capacity != null) {
            b.add("atCapacity", Json.createObjectBuilder()
                    .add("acceptedPerSec", ratio(capacity.acceptedPerSec(), 5000))
                    .add("deliveredPerSec", ratio(capacity.deliveredPerSec(), 50000))
                    .add("p99Ms", capacity.latency().p99())
                    .add("note", "at any latency, so not whether a target is met: the two above are read at the "
                            + "knee"));
        }
        LoadPhase half = halfLoadStep();
        if (half == null) {
            b.add("p99AtHalfTargetLoad", "needs 2,500 envelopes/s accepted with p99 <= 20 ms; no knee step at "
                    + "2,500/s was run");
        } else {
            b.add("p99AtHalfTargetLoad", Json.createObjectBuilder(target(half.latency().p99(), 20, false))
                    .add("step", half.name));
        }
        return b.build();
    }

    /** The knee's step at 2,500 envelopes/s, half the accepted-envelope target (its good run if it ran twice). */
    private LoadPhase halfLoadStep() {
        LoadPhase found = null;
        for (LoadPhase p : knee.steps) {
            if (p.rate == 2500 && (found == null || found.latency().p99() > p.latency().p99())) {
                found = p;
            }
        }
        return found;
    }

    /** The knee that measured deliveries: the wide-room one if it ran, else the fan-out topology's. */
    private Knee deliveriesKnee() {
        return deliveries.steps.isEmpty() ? knee : deliveries;
    }

    private static JsonObject target(double measured, double goal, boolean higherIsBetter) {
        return Json.createObjectBuilder(ratio(measured, goal))
                .add("met", higherIsBetter ? measured >= goal : measured <= goal).build();
    }

    private static JsonObject ratio(double measured, double goal) {
        return Json.createObjectBuilder().add("measured", r2(measured)).add("target", goal)
                .add("measuredOverTarget", r2(measured / goal)).build();
    }

    @SuppressWarnings("unchecked")
    private static JsonValue toJson(Object o) {
        if (o == null) {
            return JsonValue.NULL;
        }
        if (o instanceof JsonValue v) {
            return v;
        }
        if (o instanceof Map<?, ?> m) {
            JsonObjectBuilder b = Json.createObjectBuilder();
            m.forEach((k, v) -> b.add(String.valueOf(k), toJson(v)));
            return b.build();
        }
        if (o instanceof Collection<?> c) {
            JsonArrayBuilder a = Json.createArrayBuilder();
            c.forEach(v -> a.add(toJson(v)));
            return a.build();
        }
        if (o instanceof Integer || o instanceof Long) {
            return Json.createValue(((Number) o).longValue());
        }
        if (o instanceof java.util.concurrent.atomic.AtomicLong al) {
            return Json.createValue(al.get());
        }
        if (o instanceof Number n) {
            return Json.createValue(n.doubleValue());
        }
        if (o instanceof Boolean bool) {
            return bool ? JsonValue.TRUE : JsonValue.FALSE;
        }
        return Json.createValue(String.valueOf(o));
    }

    private static double r1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static double r2(double v) {
        return Math.round(v * 100) / 100.0;
    }

    // ------------------------------------------------------------------------------------------------ table

    String table() {
        StringBuilder t = new StringBuilder();
        t.append("MikroText relay benchmark\n");
        t.append("Command:  ").append(cfg.command()).append('\n');
        t.append("Machine:  ").append(machineLine()).append('\n');
        if (!"none".equals(machineDetail.get("memoryMonitor"))) {
            t.append("Kernel:   ").append(machineDetail.get("memoryMonitor"))
                    .append(" (a pageout scheme stretches commits and the latency tail: docs/performance.md, after 6)\n");
        }
        t.append("Relay:    Payara Micro, PostgreSQL ").append(pgLine()).append("; signatures verified by ")
                .append(relayVerifier).append('\n');
        t.append("WAR:      sha256 ").append(relayWar.get("sha256")).append('\n');
        t.append("JVM:      ").append(String.join(" ", serverJvmArgs)).append('\n');
        if (!serverMicroArgs.isEmpty()) {
            t.append("Micro:    ").append(String.join(" ", serverMicroArgs)).append('\n');
        }
        t.append("Limits:   raised by configuration only: ").append(cfg.relayConfig()).append('\n');
        t.append("          (fan-out sends ").append(cfg.ratePerParticipant())
                .append(" envelope/s per participant, within the default limit of 20 per 10 s)\n");
        t.append("Reference, same run: ECDSA P-256 verify on one core: SunEC ")
                .append(reference.get("sunEcVerifyPerSecOneCore")).append("/s, BouncyCastle ")
                .append(reference.get("bouncyCastleVerifyPerSecOneCore")).append("/s, native (ACCP) ")
                .append(reference.get("nativeVerifyPerSecOneCore")).append("/s; PostgreSQL ")
                .append(reference.get("pgCommitsPerSecOneConnection"))
                .append(" one-row commits/s on one connection\n\n");
        String head = String.format("%-20s %9s %9s %11s %8s %8s %8s %7s  %-30s%n", "phase", "offered/s",
                "accepted/s", "delivered/s", "p50 ms", "p99 ms", "max ms", "errors",
                "CPU cores: relay/PG/loadgen/other");
        t.append(head);
        t.append("-".repeat(head.length() - 1)).append('\n');
        List<LoadPhase> rows = new ArrayList<>();
        if (fanout != null) {
            rows.add(fanout);
        }
        if (slow != null) {
            rows.add(slow);
        }
        rows.addAll(knee.steps);
        rows.addAll(deliveries.steps);
        if (capacity != null) {
            rows.add(capacity);
        }
        rows.addAll(sharedOne.steps);
        rows.addAll(sharedTwo.steps);
        for (LoadPhase p : rows) {
            LoadPhase.Percentiles l = p.latency();
            String mark = knee.mark(p) + deliveries.mark(p) + sharedOne.mark(p) + sharedTwo.mark(p);
            t.append(String.format("%-20s %9.0f %9.1f %11.1f %8.1f %8.1f %8.1f %7d  %.2f/%.2f/%.2f/%.2f%s%n",
                    p.name, p.rate, p.acceptedPerSec(), p.deliveredPerSec(), l.p50(), l.p99(), l.max(),
                    p.errorCount(), p.cpu.server(), p.cpu.database(), p.cpu.loadGenerator(), p.cpu.other(), mark));
        }
        for (LoadPhase p : rows) {
            if (p.cpu.other() > cfg.quietOtherCores()) {
                t.append(String.format("WARNING: other processes used %.2f cores during %s; its numbers are "
                        + "disturbed%n", p.cpu.other(), p.name));
            }
        }
        if (fanout != null) {
            t.append(String.format("%nfanout: %d rooms x %d participants, %d s; latency = send -> each other "
                            + "participant has the envelope%n", fanout.rooms, fanout.participantsPerRoom,
                    fanout.seconds));
        }
        for (Knee k : List.of(knee, deliveries, sharedOne, sharedTwo)) {
            if (k.lastGood != null) {
                t.append(String.format("%s: %.1f accepted/s, %.1f delivered/s, p99 %.1f ms (rooms of %d; last step "
                                + "with p99 <= %.0f ms and no errors)%n", k.label, k.lastGood.acceptedPerSec(),
                        k.lastGood.deliveredPerSec(), k.lastGood.latency().p99(), k.participantsPerRoom(),
                        cfg.kneeP99LimitMs()));
            } else if (!k.steps.isEmpty()) {
                t.append(k.label).append(": below the first step\n");
            }
        }
        if (slow != null && fanout != null) {
            double without = fanout.latency(0, 1).p99();
            double with = slow.latency(0, 1).p99();
            t.append(String.format("slowConsumer: others' p99 %.1f ms without, %.1f ms with one participant that "
                            + "never reads (x%.2f); its room-mates: %.1f -> %.1f ms%n", without, with,
                    without == 0 ? 0 : with / without, fanout.latency(1).p99(), slow.latency(1).p99()));
        }
        if (connections != null) {
            t.append(String.format("connections: %s idle authenticated sockets (%s handshakes); server heap %s "
                            + "B/socket, RSS %s B/socket (least-squares slope over the steps: heap %s, RSS %s B/socket)%n",
                    connections.get("sockets"), connections.get("handshake"), connections.get("heapBytesPerSocket"),
                    connections.get("rssBytesPerSocket"), connections.get("heapSlopeBytesPerSocket"),
                    connections.get("rssSlopeBytesPerSocket")));
            if (connections.get("rssMeans") != null) {
                t.append("             (RSS per socket: ").append(connections.get("rssMeans")).append(")\n");
            }
            Object classes = connections.get("heapPerSocketByClass");
            if (classes instanceof List<?> list && !list.isEmpty()) {
                t.append("             heap per socket by class (GC.class_histogram at the last step minus at 0):\n");
                list.stream().limit(8).forEach(o -> {
                    Map<?, ?> row = (Map<?, ?>) o;
                    t.append(String.format("             %7s B  %5s x  %s%n", row.get("bytesPerSocket"),
                            row.get("instancesPerSocket"), row.get("class")));
                });
            }
            if (connections.get("limitedBy") != null) {
                t.append("             fewer than ").append(connections.get("target")).append(": ")
                        .append(connections.get("limitedBy")).append('\n');
            }
        }
        if (!pgTables.isEmpty()) {
            t.append("\nPostgreSQL's tables after the load phases (pg_stat_user_tables, since the database started):\n");
            t.append(String.format("  %-12s %10s %12s %10s %10s %10s %10s %10s%n", "table", "seq scans", "index scans",
                    "inserts", "updates", "HOT", "deletes", "dead rows"));
            for (Map<String, Object> row : pgTables) {
                t.append(String.format("  %-12s %10s %12s %10s %10s %10s %10s %10s%n", row.get("table"),
                        row.get("seq_scan"), row.get("idx_scan"), row.get("n_tup_ins"), row.get("n_tup_upd"),
                        row.get("n_tup_hot_upd"), row.get("n_tup_del"), row.get("n_dead_tup")));
            }
        }
        t.append("\nAgainst the issue's targets (measured / target):\n");
        if (!knee.steps.isEmpty()) {
            double accepted = knee.acceptedPerSec();
            t.append(String.format("  accepted/s at the knee   %10.0f / 5,000   = %.3f%n", accepted, accepted / 5000));
        }
        Knee wide = deliveriesKnee();
        if (!wide.steps.isEmpty()) {
            double delivered = wide.deliveredPerSec();
            t.append(String.format("  %-24s %10.0f / 50,000  = %.3f (rooms of %d)%n",
                    wide == deliveries ? "delivered/s, wide knee" : "delivered/s at the knee", delivered,
                    delivered / 50000, wide.participantsPerRoom()));
        }
        if (capacity != null) {
            t.append(String.format("  accepted/s at capacity   %10.0f / 5,000   = %.3f (at any latency: p99 %.0f ms, "
                            + "%d errors)%n", capacity.acceptedPerSec(), capacity.acceptedPerSec() / 5000,
                    capacity.latency().p99(), capacity.errorCount()));
            t.append(String.format("  delivered/s at capacity  %10.0f / 50,000  = %.3f (rooms of %d)%n",
                    capacity.deliveredPerSec(), capacity.deliveredPerSec() / 50000, capacity.participantsPerRoom));
        }
        if (connections != null) {
            double heap = ((Number) connections.get("heapBytesPerSocket")).doubleValue();
            t.append(String.format("  heap per idle socket     %10.0f / 20,480  = %.2f%n", heap, heap / 20480));
        }
        LoadPhase half = halfLoadStep();
        if (half != null) {
            t.append(String.format("  p99 ms at 2,500/s        %10.1f / 20      = %.2f%n", half.latency().p99(),
                    half.latency().p99() / 20));
        }
        if (slow != null && fanout != null) {
            double without = fanout.latency(0, 1).p99();
            double ratio = without == 0 ? 0 : slow.latency(0, 1).p99() / without;
            t.append(String.format("  stalled client p99 ratio %10.2f / 2       = %.2f%n", ratio, ratio / 2));
        }
        for (LoadPhase p : new LoadPhase[] {profiledFanout, profiled}) {
            if (p != null && p.profile != null) {
                t.append(String.format("%nWhere the relay's Java CPU samples went, %s (a separate phase with JFR on: "
                                + "accepted %.0f/s, p99 %.1f ms, relay %.2f cores):%n", p.name, p.acceptedPerSec(),
                        p.latency().p99(), p.cpu.server()));
                p.profile.stageShares().forEach((k, v) -> t.append(String.format("  %5.1f%%  %s%n", v, k)));
                t.append("  relay threads (cores): ").append(p.serverThreads).append('\n');
                if (p.threads != null) {
                    t.append("  request/socket threads in thread dumps: ").append(p.threads.get("states"))
                            .append('\n');
                    Object waiting = p.threads.get("waitingFor");
                    if (waiting instanceof Map<?, ?> w && !w.isEmpty()) {
                        t.append("  most frequent waits (lock at frame <- relay frame):\n");
                        w.entrySet().stream().limit(3).forEach(e -> t.append(String.format("    %5.1f%%  %s%n",
                                (Double) e.getValue(), e.getKey())));
                    }
                }
            }
            if (p != null && p.machine != null) {
                t.append(String.format("%nWhere the machine's CPU went, %s (Linux perf, every process, idle "
                        + "included; perf-%s.txt):%n  by thread name:", p.name, RelayBench.slug(p.name)));
                p.machine.byThread().entrySet().stream().limit(10).forEach(e -> t.append(String.format(" %s %.1f%%,",
                        e.getKey().strip(), e.getValue())));
                t.setLength(t.length() - 1);
                t.append("\n  kernel:");
                p.machine.kernel().forEach((k, v) -> t.append(String.format(" %s %.1f%%,", k, v)));
                t.setLength(t.length() - 1);
                t.append('\n');
            }
        }
        t.append("\nEnd to end: ").append(verifiedSamples).append(" delivered envelopes verified and decrypted by "
                + "their receivers; the load generator's crypto agrees with ")
                .append(reference.get("mtx1VectorsChecked")).append(" MTX1 vectors.\n");
        return t.toString();
    }

    @SuppressWarnings("unchecked")
    private String pgLine() {
        Object s = reference.get("pgSettings");
        if (!(s instanceof Map<?, ?> m)) {
            return "";
        }
        return m.get("server_version") + (Boolean.TRUE.equals(reference.get("pgEmbedded")) ? " (embedded)" : "")
                + ", fsync=" + m.get("fsync") + ", synchronous_commit=" + m.get("synchronous_commit");
    }
}
