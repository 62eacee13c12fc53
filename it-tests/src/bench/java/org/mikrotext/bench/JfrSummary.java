package org.mikrotext.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises a JFR recording of the server: where its Java threads spent CPU ({@code jdk.ExecutionSample}),
 * attributed to the relay's stages, the hottest methods, where threads waited on locks, and GC pauses.
 */
final class JfrSummary {

    /** Stages in priority order: a sample goes to the first stage any frame of its stack belongs to. */
    private static final Map<String, List<String>> STAGES = new LinkedHashMap<>();

    static {
        STAGES.put("signature verification (ECDSA)", List.of("org.mikrotext.relay.protocol.EnvelopeSignatures"));
        STAGES.put("ServiceLoader scans (Json.* factory calls, Tyrus idle-timeout rescheduling)",
                List.of("java.util.ServiceLoader", "jakarta.json.spi.JsonProvider.provider",
                        "org.glassfish.concurrent.runtime.ContextSetupProviderImpl.saveContext"));
        STAGES.put("database (JPA, JDBC, transaction)", List.of("RoomStore", "org.postgresql.", "org.eclipse.persistence.",
                "com.sun.gjc.", "com.sun.enterprise.resource.", "com.sun.enterprise.transaction.",
                "com.sun.jts.", "org.mikrotext.relay.room.control.Sessions"));
        STAGES.put("fan-out (envelope JSON, outboxes)", List.of("org.mikrotext.relay.envelope.control.Outbox",
                "org.mikrotext.relay.envelope.control.EnvelopeJson.frame",
                "org.mikrotext.relay.envelope.control.RoomChannels"));
        STAGES.put("JSON parsing and checks", List.of("org.eclipse.parsson.", "org.mikrotext.relay.envelope.control.EnvelopeJson",
                "org.mikrotext.relay.json.", "org.mikrotext.relay.protocol."));
        STAGES.put("WebSocket and HTTP I/O (Tyrus, Grizzly, NIO)", List.of("org.glassfish.tyrus.", "org.glassfish.grizzly.",
                "sun.nio.", "java.nio."));
        STAGES.put("metrics", List.of("fish.payara.microprofile.metrics", "io.smallrye.metrics"));
    }

    record Summary(long samples, Map<String, Double> stageShares, List<String> topMethods, List<String> topWaits,
                   double gcPauseMs, long gcCount, String text) {
    }

    private JfrSummary() {
    }

    static Summary summarize(Path file, String title) throws IOException {
        Map<String, Long> stages = new LinkedHashMap<>();
        STAGES.keySet().forEach(s -> stages.put(s, 0L));
        stages.put("other", 0L);
        Map<String, Long> top = new HashMap<>();
        Map<String, Long> relay = new HashMap<>();
        Map<String, Duration> waits = new HashMap<>();
        long samples = 0;
        double gcPause = 0;
        long gcCount = 0;
        long compilations = 0;
        double compileMs = 0;
        long deopts = 0;
        Map<String, Long> deoptMethods = new HashMap<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            String type = e.getEventType().getName();
            switch (type) {
                case "jdk.ExecutionSample" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null || st.getFrames().isEmpty()) {
                        continue;
                    }
                    samples++;
                    List<RecordedFrame> frames = st.getFrames();
                    top.merge(name(frames.get(0)), 1L, Long::sum);
                    stages.merge(stageOf(frames), 1L, Long::sum);
                    for (RecordedFrame f : frames) {
                        String n = name(f);
                        if (n.startsWith("org.mikrotext.")) {
                            relay.merge(n, 1L, Long::sum);
                            break;
                        }
                    }
                }
                case "jdk.JavaMonitorEnter", "jdk.ThreadPark", "jdk.JavaMonitorWait" -> {
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null) {
                        continue;
                    }
                    String where = null;
                    for (RecordedFrame f : st.getFrames()) {
                        String n = name(f);
                        if (n.startsWith("org.mikrotext.")) {
                            where = n;
                            break;
                        }
                    }
                    if (where != null) {
                        waits.merge(type.substring(4) + " in " + where, e.getDuration(), Duration::plus);
                    }
                }
                case "jdk.Compilation" -> {
                    compilations++;
                    compileMs += e.getDuration().toNanos() / 1e6;
                }
                case "jdk.Deoptimization" -> {
                    deopts++;
                    if (e.hasField("method") && e.getValue("method") != null) {
                        jdk.jfr.consumer.RecordedMethod m = e.getValue("method");
                        deoptMethods.merge(m.getType().getName() + "." + m.getName() + " (" + e.getString("reason")
                                + ")", 1L, Long::sum);
                    }
                }
                case "jdk.GarbageCollection" -> {
                    gcPause += e.getDuration("sumOfPauses").toNanos() / 1e6;
                    gcCount++;
                }
                default -> {
                    // other events are not summarised
                }
            }
        }
        long total = Math.max(1, samples);
        Map<String, Double> shares = new LinkedHashMap<>();
        stages.forEach((k, v) -> shares.put(k, Math.round(1000.0 * v / total) / 10.0));
        List<String> topMethods = top.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(15).map(en -> String.format("%5.1f%%  %s", 100.0 * en.getValue() / total, en.getKey()))
                .collect(Collectors.toList());
        List<String> relayFrames = relay.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(10).map(en -> String.format("%5.1f%%  %s", 100.0 * en.getValue() / total, en.getKey()))
                .collect(Collectors.toList());
        List<String> topWaits = waits.entrySet().stream()
                .sorted(Map.Entry.<String, Duration>comparingByValue().reversed()).limit(8)
                .map(en -> String.format("%8.1f s  %s", en.getValue().toNanos() / 1e9, en.getKey()))
                .collect(Collectors.toList());
        StringBuilder text = new StringBuilder();
        text.append("JFR profile of the server: ").append(title).append(" (").append(file.getFileName()).append(")\n");
        text.append("Java execution samples: ").append(samples).append("\n\nCPU samples by relay stage "
                + "(each sample counted once, in the first stage of this list found on its stack):\n");
        shares.forEach((k, v) -> text.append(String.format("  %5.1f%%  %s%n", v, k)));
        text.append("\nHottest methods (top frame):\n");
        topMethods.forEach(s -> text.append("  ").append(s).append('\n'));
        text.append("\nInnermost relay (org.mikrotext) frame of each sample:\n");
        relayFrames.forEach(s -> text.append("  ").append(s).append('\n'));
        text.append("\nBlocked or parked time (JFR threshold events) by innermost relay frame:\n");
        topWaits.forEach(s -> text.append("  ").append(s).append('\n'));
        text.append(String.format("%nGC: %d collections, %.0f ms of pauses%n", gcCount, gcPause));
        text.append(String.format("JIT: %d compilations taking %.0f ms in all (JFR threshold: over 1000 ms in the "
                + "default settings, 100 ms in profile), %d deoptimizations%n", compilations, compileMs, deopts));
        deoptMethods.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
                .forEach(en -> text.append(String.format("  %5d  %s%n", en.getValue(), en.getKey())));
        return new Summary(samples, shares, topMethods, topWaits, gcPause, gcCount, text.toString());
    }

    private static String stageOf(List<RecordedFrame> frames) {
        return stageOfNames(frames.stream().map(JfrSummary::name).collect(Collectors.toList()));
    }

    /** The relay stage of a stack given as "class.method" names, innermost first. */
    static String stageOfNames(List<String> frames) {
        for (Map.Entry<String, List<String>> stage : STAGES.entrySet()) {
            for (String n : frames) {
                for (String marker : stage.getValue()) {
                    if (n.contains(marker)) {
                        return stage.getKey();
                    }
                }
            }
        }
        return "other";
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }
}
