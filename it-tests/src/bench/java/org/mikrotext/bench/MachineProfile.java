package org.mikrotext.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;

/**
 * A profile of the whole machine with Linux {@code perf}: every process (relay, PostgreSQL, load generator, kernel
 * threads) and the kernel's share of each, sampled by CPU clock on all CPUs. JFR sees only the relay's Java code and
 * samples few threads at a time; the kernel's work for the relay (socket writes, page faults, scheduling) is invisible
 * to it, and that is where a saturated 2-core machine spends much of its time. JIT-compiled Java frames get their
 * names from the JVMs' perf maps ({@code Compiler.perfmap}), written after the recording.
 */
final class MachineProfile {

    private static final Pattern SHARE = Pattern.compile("^\\s+([0-9.]+)%\\s+(\\S.*?)\\s*$");
    private static final Pattern KERNEL = Pattern.compile("^\\s+([0-9.]+)%\\s+[0-9.]+%\\s+\\[k\\]\\s+(\\S+)\\s*$");
    /** Kernel entry points, inclusive of what they call: where the kernel's time comes from. */
    private static final Map<String, String> ENTRIES = new LinkedHashMap<>();

    static {
        ENTRIES.put("do_syscall_64", "system calls");
        ENTRIES.put("handle_softirqs", "softirqs (network receive, timers)");
        ENTRIES.put("__schedule", "scheduler (context switches)");
        ENTRIES.put("asm_exc_page_fault", "page faults");
        ENTRIES.put("do_idle", "idle");
    }

    record Summary(Map<String, Double> byThread, Map<String, Double> kernel, List<String> topSymbols, String text) {
    }

    private final Process recorder;
    private final Path data;

    private MachineProfile(Process recorder, Path data) {
        this.recorder = recorder;
        this.data = data;
    }

    /** Whether {@code perf} can record every CPU here (it may be missing, or forbidden by perf_event_paranoid). */
    static boolean available(Path dir) {
        try {
            Path probe = dir.resolve("perf-probe.data");
            Process p = new ProcessBuilder("perf", "record", "-e", "cpu-clock", "-a", "-o", probe.toString(), "--",
                    "true").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            boolean ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
            if (p.isAlive()) {
                p.destroyForcibly();
            }
            Files.deleteIfExists(probe);
            return ok;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Records every CPU, with kernel call chains, for {@code seconds}, into {@code data}. */
    static MachineProfile start(Path data, int seconds) throws IOException {
        Files.deleteIfExists(data);
        Process p = new ProcessBuilder("perf", "record", "-e", "cpu-clock", "-F", "499", "-a", "-g", "-o",
                data.toString(), "--", "sleep", Integer.toString(seconds))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return new MachineProfile(p, data);
    }

    /** Waits for the recording, names the JIT frames of the relay and of this JVM, and summarises. */
    Summary finish(BenchServer server, String title) throws IOException, InterruptedException {
        if (!recorder.waitFor(120, TimeUnit.SECONDS)) {
            recorder.destroyForcibly();
        }
        server.jcmd("Compiler.perfmap");
        List<Path> maps = new ArrayList<>(List.of(perfMap(server.pid())));
        try {
            ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerPerfmap",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            maps.add(perfMap(ProcessHandle.current().pid()));
        } catch (javax.management.JMException e) {
            // the load generator's own frames stay unnamed
        }
        try {
            Map<String, Double> byThread = shares(report("--no-children", "--sort", "comm"), 14);
            Map<String, Double> kernel = new LinkedHashMap<>();
            for (String line : report("--children", "--sort", "sym")) {
                Matcher m = KERNEL.matcher(line);
                if (m.matches() && ENTRIES.containsKey(m.group(2))) {
                    kernel.put(ENTRIES.get(m.group(2)), Double.parseDouble(m.group(1)));
                }
            }
            List<String> top = new ArrayList<>();
            for (String line : report("--no-children", "--sort", "comm,sym")) {
                if (SHARE.matcher(line).matches() && top.size() < 30) {
                    String trimmed = line.strip().replaceAll("\\s{2,}", "  ");
                    top.add(trimmed.length() > 170 ? trimmed.substring(0, 170) + "…" : trimmed);
                }
            }
            StringBuilder text = new StringBuilder("Linux perf, every process on every CPU: ").append(title)
                    .append(" (").append(data.getFileName()).append("; cpu-clock at 499 Hz per CPU)\n")
                    .append("Shares are of all samples, idle included.\n\nBy thread name:\n");
            byThread.forEach((k, v) -> text.append(String.format("  %5.1f%%  %s%n", v, k)));
            text.append("\nKernel, by entry point (inclusive; they overlap where one calls another):\n");
            kernel.forEach((k, v) -> text.append(String.format("  %5.1f%%  %s%n", v, k)));
            text.append("\nHottest functions (self time, by thread name):\n");
            top.forEach(l -> text.append("  ").append(l).append('\n'));
            return new Summary(byThread, kernel, top, text.toString());
        } finally {
            // Kept beside the recording, so that it can be read again with Java names (perf looks in /tmp).
            for (Path map : maps) {
                if (Files.exists(map)) {
                    Files.move(map, data.resolveSibling(data.getFileName().toString().replace(".data", "")
                            + "-" + map.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static Path perfMap(long pid) {
        return Path.of("/tmp", "perf-" + pid + ".map");
    }

    private List<String> report(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("perf", "report", "-i", data.toString(), "--stdio", "-g",
                "none"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(300, TimeUnit.SECONDS);
        return out.lines().filter(l -> !l.startsWith("#") && !l.isBlank()).toList();
    }

    private static Map<String, Double> shares(List<String> lines, int limit) {
        Map<String, Double> shares = new LinkedHashMap<>();
        for (String line : lines) {
            Matcher m = SHARE.matcher(line);
            if (m.matches() && shares.size() < limit) {
                shares.merge(m.group(2), Double.parseDouble(m.group(1)), Double::sum);
            }
        }
        return shares;
    }
}
