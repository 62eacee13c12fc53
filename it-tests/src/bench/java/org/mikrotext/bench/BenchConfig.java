package org.mikrotext.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every knob of the benchmark, read from system properties ({@code -Dbench.…} on the Maven command line). The
 * defaults make a full run take about twenty minutes on a 2-core machine.
 */
record BenchConfig(
        Set<String> scenarios,
        int rooms, int participantsPerRoom, double ratePerParticipant, int textBytes,
        int warmupSeconds, int fanoutSeconds, int slowSeconds, int kneeSeconds, List<Double> kneeRates,
        double kneeP99LimitMs, int kneeRetries,
        int deliveriesRooms, int deliveriesParticipantsPerRoom, List<Double> deliveriesRates,
        List<Double> sharedRates, double capacityRate, int capacitySeconds,
        int drainSeconds, int stalledReceiveBuffer,
        int connectionsTarget, int connectionsSteps, int connectionsPerRoom, int connectionsSocketsPerParticipant,
        int connectionsInFlight, String handshake,
        double quietOtherCores, int quietMaxWaitSeconds,
        int loops, boolean jfr, boolean perf, int profileSeconds, int nofile, List<String> serverJvmArgs, List<String> serverMicroArgs,
        Map<String, String> relayConfig,
        String dbUrl, String dbUser, String dbPassword, String command) {

    /** The rate limits the benchmark raises, by configuration only, so that load and setup are not refused. */
    static Map<String, String> defaultRelayConfig() {
        Map<String, String> env = new LinkedHashMap<>();
        // 1,000 envelopes/s per participant, so that the knee can step past the default of 2/s per participant.
        env.put("MIKROTEXT_RATE_SEND_CAPACITY", "10000");
        // Setup creates thousands of rooms and joins, and opens 20,000 sockets, all from 127.0.0.1.
        env.put("MIKROTEXT_RATE_JOIN_CAPACITY", "10000000");
        env.put("MIKROTEXT_RATE_API_CAPACITY", "100000000");
        return env;
    }

    static BenchConfig load() {
        Map<String, String> relay = defaultRelayConfig();
        for (String pair : prop("bench.relay.env", "").split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                relay.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
        Set<String> scenarios = new LinkedHashSet<>(Arrays.asList(prop("bench.scenarios",
                "fanout,slowConsumer,knee,deliveries,capacity,connections").split("\\s*,\\s*")));
        if (scenarios.contains("shared")) {
            // Two relays share the rooms; every relay of the run has the setting, so that one alone is the baseline.
            relay.putIfAbsent("MIKROTEXT_CLUSTER_ENABLED", "true");
        }
        List<Double> rates = rates(prop("bench.knee.rates",
                "50,100,150,200,250,300,350,400,500,600,800,1000,1500,2000,2500,3000,4000,5000,6000,8000,10000"));
        List<String> jvmArgs = words(prop("bench.server.jvmArgs", DEFAULT_SERVER_JVM_ARGS));
        String dbUrl = prop("bench.db.url", "");
        if (dbUrl.isBlank()) {
            dbUrl = null;
        }
        return new BenchConfig(
                scenarios,
                intProp("bench.rooms", 100), intProp("bench.participantsPerRoom", 5),
                Double.parseDouble(prop("bench.ratePerParticipant", "0.2")), intProp("bench.textBytes", 120),
                intProp("bench.warmup.seconds", 40), intProp("bench.fanout.seconds", 30),
                intProp("bench.slow.seconds", 30), intProp("bench.knee.seconds", 12), rates,
                Double.parseDouble(prop("bench.knee.p99LimitMs", "100")), intProp("bench.knee.retries", 1),
                intProp("bench.deliveries.rooms", 50), intProp("bench.deliveries.participantsPerRoom", 11),
                rates(prop("bench.deliveries.rates", "1000,2000,3000,3500,4000,4500,5000,6000")),
                rates(prop("bench.shared.rates", "500,1000,1500,2000,2500")),
                Double.parseDouble(prop("bench.capacity.rate", "8000")), intProp("bench.capacity.seconds", 20),
                intProp("bench.drain.seconds", 10),
                intProp("bench.slow.receiveBuffer", 4096),
                intProp("bench.connections.target", 20000), intProp("bench.connections.steps", 5),
                intProp("bench.connections.perRoom", 10), intProp("bench.connections.socketsPerParticipant", 4),
                intProp("bench.connections.inFlight", 200), handshake(prop("bench.handshake", "minimal")),
                Double.parseDouble(prop("bench.quiet.otherCores", "0.3")), intProp("bench.quiet.maxWaitSeconds", 180),
                intProp("bench.client.threads", 2), Boolean.parseBoolean(prop("bench.jfr", "true")),
                Boolean.parseBoolean(prop("bench.perf", "true")),
                intProp("bench.profile.seconds", 12),
                intProp("bench.nofile", 65536), jvmArgs, words(prop("bench.server.microArgs", "")), relay,
                dbUrl, prop("bench.db.user", "postgres"), prop("bench.db.password", "postgres"),
                prop("bench.command", "./mvnw -B -pl it-tests -am -Pbench verify"));
    }

    /**
     * The relay's JVM options: the heap that docs/deployment.md recommends for production (fixed, touched at start,
     * on transparent huge pages, sized for 20,000 sockets, with a 20 ms pause goal), and deeper JFR stacks for the
     * profiled phases.
     */
    static final String DEFAULT_SERVER_JVM_ARGS = "-Xms2g -Xmx2g -XX:+AlwaysPreTouch -XX:+UseTransparentHugePages "
            + "-XX:MaxGCPauseMillis=20 -XX:FlightRecorderOptions:stackdepth=256";

    /**
     * The request headers every socket's handshake adds to the five a WebSocket handshake needs: none
     * ({@code minimal}), or those Chromium sends with it ({@code browser}), so that what the relay keeps per socket can
     * be measured for a browser's handshake too.
     */
    static final String BROWSER_HEADERS = "Pragma: no-cache\r\nCache-Control: no-cache\r\n"
            + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
            + "Safari/537.36\r\nOrigin: http://127.0.0.1\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
            + "Accept-Language: en-US,en;q=0.9\r\nSec-WebSocket-Extensions: permessage-deflate; "
            + "client_max_window_bits\r\n";

    private static String handshake(String kind) {
        return switch (kind) {
            case "minimal" -> "minimal";
            case "browser" -> "browser";
            default -> throw new IllegalArgumentException("bench.handshake is minimal or browser, not " + kind);
        };
    }

    /** The header lines {@link #handshake} adds, each ending in CRLF. */
    String handshakeHeaders() {
        return handshake.equals("browser") ? BROWSER_HEADERS : "";
    }

    boolean runs(String scenario) {
        return scenarios.contains(scenario);
    }

    private static String prop(String name, String fallback) {
        String v = System.getProperty(name);
        // An unset ${env.X} in the profile arrives literally: treat it as not given.
        return v == null || v.isBlank() || v.startsWith("${") ? fallback : v.trim();
    }

    private static List<Double> rates(String list) {
        List<Double> rates = new ArrayList<>();
        for (String r : list.split(",")) {
            rates.add(Double.parseDouble(r.trim()));
        }
        return rates;
    }

    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        for (String w : text.split("\\s+")) {
            if (!w.isBlank()) {
                words.add(w);
            }
        }
        return words;
    }

    private static int intProp(String name, int fallback) {
        return Integer.parseInt(prop(name, Integer.toString(fallback)));
    }
}
