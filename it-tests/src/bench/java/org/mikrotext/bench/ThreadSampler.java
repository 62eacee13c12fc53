package org.mikrotext.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A poor man's profiler for the relay under saturation: takes {@code Thread.print} dumps of the server at a fixed
 * interval (through the attach API, without a profiler in the server) and counts, over the threads that serve
 * sockets and requests, what state they are in, which lock the blocked ones wait for and where, and in which relay
 * stage the running ones are.
 */
final class ThreadSampler implements AutoCloseable {

    private final BenchServer server;
    private final long intervalMillis;
    private final Thread thread;
    private volatile boolean running = true;
    private int dumps;
    private int threadSamples;
    private final Map<String, Integer> states = new HashMap<>();
    private final Map<String, Integer> blockedAt = new HashMap<>();
    private final Map<String, Integer> runningStage = new HashMap<>();
    private final Map<String, Integer> runningTop = new HashMap<>();

    ThreadSampler(BenchServer server, long intervalMillis) {
        this.server = server;
        this.intervalMillis = intervalMillis;
        this.thread = new Thread(this::run, "thread-sampler");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        while (running) {
            long next = System.currentTimeMillis() + intervalMillis;
            try {
                add(server.jcmd("Thread.print"));
            } catch (Exception e) {
                return;
            }
            long wait = next - System.currentTimeMillis();
            if (wait > 0) {
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** The first dump, kept as evidence. */
    String firstDump;

    private synchronized void add(String dump) {
        dumps++;
        if (firstDump == null) {
            firstDump = dump;
        }
        for (String block : dump.split("\n\n")) {
            String[] lines = block.split("\n");
            if (lines.length < 2 || !lines[0].startsWith("\"")) {
                continue;
            }
            String name = lines[0].substring(1, Math.max(1, lines[0].indexOf('"', 1)));
            if (!name.startsWith("http-thread-pool") && !name.contains("ManagedExecutorService")) {
                continue;
            }
            String state = lines[1].trim().replace("java.lang.Thread.State: ", "");
            List<String> frames = new ArrayList<>();
            String lock = null;
            for (int i = 2; i < lines.length; i++) {
                String l = lines[i].trim();
                if (l.startsWith("at ")) {
                    String f = l.substring(3);
                    int paren = f.indexOf('(');
                    frames.add(paren > 0 ? f.substring(0, paren) : f);
                } else if (lock == null && (l.startsWith("- waiting to lock") || l.startsWith("- parking to wait for"))) {
                    int a = l.indexOf("(a ");
                    lock = a > 0 ? l.substring(a + 3, l.length() - 1) : l;
                }
            }
            if (frames.isEmpty()) {
                continue;
            }
            boolean idle = state.startsWith("WAITING") || state.startsWith("TIMED_WAITING");
            boolean pooledIdle = idle && frames.stream().anyMatch(f -> f.contains("LinkedTransferQueue")
                    || f.contains("ThreadPoolExecutor.getTask") || f.contains("SyncThreadPool")
                    || f.contains("LinkedBlockingQueue.take") || f.contains("getTask"));
            String kind = pooledIdle ? "idle in its pool" : state.replaceAll(" \\(.*", "");
            threadSamples++;
            states.merge(kind, 1, Integer::sum);
            String relay = frames.stream().filter(f -> f.startsWith("org.mikrotext.")).findFirst().orElse("-");
            if (state.startsWith("BLOCKED") || (!pooledIdle && idle)) {
                blockedAt.merge((lock == null ? "?" : lock) + " at " + frames.get(0) + " <- " + relay, 1,
                        Integer::sum);
            } else if (state.startsWith("RUNNABLE")) {
                runningStage.merge(JfrSummary.stageOfNames(frames), 1, Integer::sum);
                runningTop.merge(frames.get(0), 1, Integer::sum);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(10_000);
    }

    synchronized Map<String, Object> summary() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("dumps", dumps);
        out.put("threadSamples", threadSamples);
        out.put("states", shares(states, threadSamples, 10));
        out.put("waitingFor", shares(blockedAt, threadSamples, 8));
        int running = runningStage.values().stream().mapToInt(Integer::intValue).sum();
        out.put("runningByStage", shares(runningStage, running, 10));
        out.put("runningTopFrames", shares(runningTop, running, 10));
        return out;
    }

    synchronized String text(String title) {
        StringBuilder t = new StringBuilder();
        t.append("Thread dumps of the relay: ").append(title).append('\n');
        t.append(dumps).append(" dumps, ").append(threadSamples)
                .append(" samples of request and socket threads (http-thread-pool, managed executor)\n");
        Map<String, Object> s = summary();
        for (String key : List.of("states", "waitingFor", "runningByStage", "runningTopFrames")) {
            t.append('\n').append(key).append(":\n");
            ((Map<?, ?>) s.get(key)).forEach((k, v) -> t.append(String.format("  %5.1f%%  %s%n", (Double) v, k)));
        }
        return t.toString();
    }

    private static Map<String, Double> shares(Map<String, Integer> counts, int total, int limit) {
        return counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(limit)
                .collect(Collectors.toMap(Map.Entry::getKey,
                        e -> Math.round(1000.0 * e.getValue() / Math.max(1, total)) / 10.0, (a, b) -> a,
                        LinkedHashMap::new));
    }
}
