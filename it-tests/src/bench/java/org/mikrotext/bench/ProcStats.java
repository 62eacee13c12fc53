package org.mikrotext.bench;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Linux /proc readings: CPU time of the server, of the load generator, of the PostgreSQL the relay uses, and of
 * the whole machine (so that anything else running on the machine shows up as "other"), and memory of a process.
 */
final class ProcStats {

    /** Clock ticks per second of /proc times; 100 on every Linux this runs on. */
    static final double HZ = 100.0;

    private ProcStats() {
    }

    static String read(String path) {
        try {
            return Files.readString(Path.of(path), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    /** A {@code kB} field of /proc/PID/status, or -1. */
    static long statusKb(long pid, String field) {
        for (String line : read("/proc/" + pid + "/status").split("\n")) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static long openFileLimit(long pid) {
        for (String line : read("/proc/" + pid + "/limits").split("\n")) {
            if (line.startsWith("Max open files")) {
                String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
                return "unlimited".equals(parts[0]) ? Long.MAX_VALUE : Long.parseLong(parts[0]);
            }
        }
        return -1;
    }

    static int openFiles(long pid) {
        File[] fds = new File("/proc/" + pid + "/fd").listFiles();
        return fds == null ? -1 : fds.length;
    }

    /** utime + stime of a process (all its threads), in ticks; 0 if it is gone. */
    /** The write system calls the process has made ({@code syscw} in {@code /proc/PID/io}), or -1 if unreadable. */
    static long writeCalls(long pid) {
        for (String line : read("/proc/" + pid + "/io").split("\n")) {
            if (line.startsWith("syscw:")) {
                return Long.parseLong(line.substring(6).trim());
            }
        }
        return -1;
    }

    static long cpuTicks(long pid) {
        String stat = read("/proc/" + pid + "/stat");
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return 0;
        }
        String[] f = stat.substring(close + 2).split(" ");
        // fields after the command: state(3) ppid(4) ... utime(14) stime(15); f[0] is field 3
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long ppid(long pid) {
        String stat = read("/proc/" + pid + "/stat");
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return -1;
        }
        return Long.parseLong(stat.substring(close + 2).split(" ")[1]);
    }

    static String comm(long pid) {
        return read("/proc/" + pid + "/comm").trim();
    }

    static String cmdline(long pid) {
        return read("/proc/" + pid + "/cmdline").replace('\0', ' ').trim();
    }

    static List<Long> pids() {
        List<Long> out = new ArrayList<>();
        File[] entries = new File("/proc").listFiles();
        if (entries != null) {
            for (File f : entries) {
                String name = f.getName();
                if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
                    out.add(Long.parseLong(name));
                }
            }
        }
        return out;
    }

    /** The PostgreSQL postmaster listening on {@code port} (its command line names the port), or -1. */
    static long postmaster(int port) {
        for (long pid : pids()) {
            if (comm(pid).startsWith("postgres")) {
                String cmd = cmdline(pid);
                if (cmd.contains("-p " + port) || cmd.contains("port=" + port)) {
                    return pid;
                }
            }
        }
        return -1;
    }

    /** The postmaster and its children (backends, writer, WAL writer …). */
    static List<Long> family(long parent) {
        List<Long> out = new ArrayList<>();
        if (parent <= 0) {
            return out;
        }
        out.add(parent);
        for (long pid : pids()) {
            if (ppid(pid) == parent) {
                out.add(pid);
            }
        }
        return out;
    }

    /** CPU ticks of each thread of a process, summed by thread name with digits folded ("GC Thread#0" → "GC Thread#n"). */
    static java.util.Map<String, Long> threadTicks(long pid) {
        java.util.Map<String, Long> out = new java.util.HashMap<>();
        File[] tasks = new File("/proc/" + pid + "/task").listFiles();
        if (tasks == null) {
            return out;
        }
        for (File t : tasks) {
            long tid = Long.parseLong(t.getName());
            String name = read("/proc/" + pid + "/task/" + tid + "/comm").trim().replaceAll("[0-9]+", "n");
            String stat = read("/proc/" + pid + "/task/" + tid + "/stat");
            int close = stat.lastIndexOf(')');
            if (close < 0) {
                continue;
            }
            String[] f = stat.substring(close + 2).split(" ");
            out.merge(name, Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
        }
        return out;
    }

    /** The thread groups that used the most CPU between two {@link #threadTicks} readings, in cores. */
    static java.util.Map<String, Double> topThreads(java.util.Map<String, Long> before, java.util.Map<String, Long> after,
                                                   double seconds, int limit) {
        java.util.Map<String, Double> out = new java.util.LinkedHashMap<>();
        after.entrySet().stream()
                .map(e -> java.util.Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(limit)
                .forEach(e -> out.put(e.getKey(), Math.round(e.getValue() / HZ / seconds * 100) / 100.0));
        return out;
    }

    /** Busy and total ticks of the whole machine, from /proc/stat. */
    static long[] machineTicks() {
        String first = read("/proc/stat").split("\n")[0];
        String[] f = first.trim().split("\\s+");
        long total = 0;
        long idle = 0;
        for (int i = 1; i < f.length && i <= 8; i++) {
            long v = Long.parseLong(f[i]);
            total += v;
            if (i == 4 || i == 5) {
                idle += v;
            }
        }
        return new long[] {total - idle, total};
    }

    /** CPU used during an interval, in cores, by the server, the load generator, PostgreSQL and everything else. */
    record CpuUse(double server, double loadGenerator, double database, double other, double machineBusy,
                  double seconds) {
        String describe() {
            return String.format("server %.2f, load generator %.2f, PostgreSQL %.2f, other %.2f cores (of %d)",
                    server, loadGenerator, database, other, Runtime.getRuntime().availableProcessors());
        }
    }

    /** Samples CPU counters at the start of an interval; {@link #end()} gives the use since. */
    static final class CpuMeter {
        private final List<Long> serverPids;
        private final int pgPort;
        private final long self = ProcessHandle.current().pid();
        private long t0;
        private long server0;
        private long self0;
        private long db0;
        private long[] machine0;
        private List<Long> dbPids;

        CpuMeter(long serverPid, int pgPort) {
            this(new long[] {serverPid}, pgPort);
        }

        /** With several relay processes, counted together as the relay. */
        CpuMeter(long[] serverPids, int pgPort) {
            this.serverPids = java.util.Arrays.stream(serverPids).boxed().toList();
            this.pgPort = pgPort;
        }

        CpuMeter start() {
            dbPids = family(postmaster(pgPort));
            t0 = System.nanoTime();
            server0 = sum(serverPids);
            self0 = cpuTicks(self);
            db0 = sum(dbPids);
            machine0 = machineTicks();
            return this;
        }

        CpuUse end() {
            double seconds = (System.nanoTime() - t0) / 1e9;
            // Backends that started during the interval are counted from zero.
            List<Long> now = family(postmaster(pgPort));
            long db1 = sum(now);
            long[] machine1 = machineTicks();
            double server = (sum(serverPids) - server0) / HZ / seconds;
            double self1 = (cpuTicks(self) - self0) / HZ / seconds;
            double db = Math.max(0, db1 - db0) / HZ / seconds;
            int cores = Runtime.getRuntime().availableProcessors();
            double busy = (double) (machine1[0] - machine0[0]) / Math.max(1, machine1[1] - machine0[1]) * cores;
            double other = Math.max(0, busy - server - self1 - db);
            return new CpuUse(server, self1, db, other, busy, seconds);
        }

        private static long sum(List<Long> pids) {
            long s = 0;
            for (long pid : pids) {
                s += cpuTicks(pid);
            }
            return s;
        }
    }
}
