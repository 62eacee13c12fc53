package org.mikrotext.bench;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.mikrotext.it.support.MicroProcess;

/**
 * The relay under test: {@code java -jar payara-micro.jar --deploy mikrotext.war} as a child process, started
 * through {@code /bin/sh} so that its open-file limit can be raised first, with the relay's configuration given
 * only through environment variables. Knows its PID for RSS, heap (jcmd) and JFR.
 */
final class BenchServer implements AutoCloseable {

    /** GC.heap_info's first lines: G1, Parallel and Serial ("… heap total 2097152K, used 123456K"). */
    private static final Pattern HEAP_TOTAL_USED = Pattern.compile(
            "(?m)^\\s*\\S.*?heap\\s+total\\s+(\\d+[KMG]),\\s+used\\s+(\\d+[KMG])");
    /** ZGC ("ZHeap used 172M, capacity 2048M, …"). */
    private static final Pattern ZGC_USED_CAPACITY = Pattern.compile(
            "(?m)^\\s*ZHeap\\s+used\\s+(\\d+[KMG]),\\s+capacity\\s+(\\d+[KMG])");
    /** Shenandoah ("2048M max, 2048M soft max, 2048M committed, 1536K used"). */
    private static final Pattern SHENANDOAH_COMMITTED_USED = Pattern.compile(
            "(?m)^\\s*\\d+[KMG] max,.*?(\\d+[KMG]) committed,\\s+(\\d+[KMG]) used");

    private final Path dir;
    private final int port;
    private final Map<String, String> relayConfig;
    private final String jvm;
    private Process process;
    /** Where this server's part of the log begins: the file is appended to by every run in the same tree. */
    private int logStart;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    BenchServer(Path dir, Map<String, String> relayConfig) {
        this.dir = dir;
        this.port = freePort();
        this.relayConfig = relayConfig;
        this.jvm = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    Path log() {
        return dir.resolve("server.log");
    }

    /** The rest of this server's first log line that contains {@code prefix}, or "not logged". */
    String logged(String prefix) {
        String log = ProcStats.read(log().toString());
        int at = log.indexOf(prefix, logStart);
        if (at < 0) {
            return "not logged";
        }
        int end = log.indexOf('\n', at);
        return log.substring(at + prefix.length(), end < 0 ? log.length() : end).trim();
    }

    /** Starts the server with {@code nofile} as its wished open-file limit and waits until the relay answers. */
    BenchServer start(int nofile, List<String> jvmArgs, List<String> microArgs, Map<String, String> database)
            throws IOException, InterruptedException {
        logStart = Files.exists(log()) ? (int) Files.size(log()) : 0;
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c",
                // Raise the hard limit if we may (root with CAP_SYS_RESOURCE), then the soft one as far as allowed.
                "ulimit -H -n " + nofile + " 2>/dev/null; ulimit -S -n " + nofile + " 2>/dev/null"
                        + " || ulimit -S -n \"$(ulimit -H -n)\"; exec \"$@\"", "sh", jvm));
        command.addAll(jvmArgs);
        command.addAll(List.of("-jar", System.getProperty("payara.microJar"),
                "--deploy", System.getProperty("mikrotext.it.war"),
                "--contextroot", "/", "--port", Integer.toString(port), "--nocluster"));
        command.addAll(microArgs);
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()));
        // The relay's configuration comes from this benchmark only, not from the failsafe settings of the ITs.
        builder.environment().keySet().removeIf(k -> k.startsWith("MIKROTEXT_"));
        builder.environment().putAll(database);
        builder.environment().putAll(relayConfig);
        process = builder.start();
        awaitReady(Duration.ofSeconds(240));
        return this;
    }

    private void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Payara Micro ended during start; see " + log());
            }
            if (MicroProcess.servesRelay(http, base())) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("Payara Micro did not start within " + timeout + "; see " + log());
    }

    /** The relay's OpenMetrics text, as name (with labels) to value. */
    Map<String, Double> metrics() {
        Map<String, Double> out = new LinkedHashMap<>();
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base().resolve("metrics"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            for (String line : r.body().split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int space = line.lastIndexOf(' ');
                if (space > 0) {
                    try {
                        out.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
                    } catch (NumberFormatException e) {
                        // a timestamp or an odd line
                    }
                }
            }
        } catch (IOException e) {
            // metrics are informative only
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    /** The first metric whose name (without labels) is {@code name}, or -1. */
    double metric(String name) {
        return metric(metrics(), name);
    }

    static double metric(Map<String, Double> metrics, String name) {
        for (Map.Entry<String, Double> e : metrics.entrySet()) {
            String key = e.getKey();
            if (key.equals(name) || key.startsWith(name + "{")) {
                return e.getValue();
            }
        }
        return -1;
    }

    /** Resident set size in bytes, from /proc. */
    long rssBytes() {
        return ProcStats.statusKb(process.pid(), "VmRSS") * 1024;
    }

    int openFiles() {
        File[] fds = new File("/proc/" + process.pid() + "/fd").listFiles();
        return fds == null ? -1 : fds.length;
    }

    long openFileLimit() {
        return ProcStats.openFileLimit(process.pid());
    }

    /** Runs two full GCs and returns the heap in use afterwards (bytes), from {@code jcmd GC.heap_info}. */
    long heapUsedAfterGc() throws IOException, InterruptedException {
        jcmd("GC.run");
        jcmd("GC.run");
        return heapUsed();
    }

    long heapUsed() throws IOException, InterruptedException {
        return heapUsed(jcmd("GC.heap_info"));
    }

    /** The heap in use, in bytes, from {@code GC.heap_info}, whichever collector wrote it. */
    static long heapUsed(String info) {
        Matcher m = HEAP_TOTAL_USED.matcher(info);
        if (m.find()) {
            return bytes(m.group(2));
        }
        m = ZGC_USED_CAPACITY.matcher(info);
        if (m.find()) {
            return bytes(m.group(1));
        }
        m = SHENANDOAH_COMMITTED_USED.matcher(info);
        if (m.find()) {
            return bytes(m.group(2));
        }
        throw new IllegalStateException("Unexpected GC.heap_info output: " + info);
    }

    private static long bytes(String size) {
        long n = Long.parseLong(size.substring(0, size.length() - 1));
        return switch (size.charAt(size.length() - 1)) {
            case 'K' -> n << 10;
            case 'M' -> n << 20;
            default -> n << 30;
        };
    }

    /**
     * A diagnostic command in the server, through the attach API when this JVM may use it (no extra JVM started,
     * which matters on two cores), else through the {@code jcmd} tool.
     */
    String jcmd(String... args) throws IOException, InterruptedException {
        String line = String.join(" ", args);
        try {
            synchronized (this) {
                if (attached == null && !attachFailed) {
                    attached = com.sun.tools.attach.VirtualMachine.attach(Long.toString(process.pid()));
                    executeJCmd = Class.forName("sun.tools.attach.HotSpotVirtualMachine")
                            .getMethod("executeJCmd", String.class);
                }
            }
            if (attached != null) {
                try (java.io.InputStream in = (java.io.InputStream) executeJCmd.invoke(attached, line)) {
                    // Read with offset 0 only: the attach stream's read(byte[], off, len) misreads a non-zero
                    // offset on JDK 17, which cuts readAllBytes() off after 4096 bytes.
                    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                    byte[] buffer = new byte[8192];
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        out.write(buffer, 0, n);
                    }
                    return out.toString(StandardCharsets.UTF_8);
                }
            }
        } catch (ReflectiveOperationException | RuntimeException | com.sun.tools.attach.AttachNotSupportedException
                 | IOException e) {
            attachFailed = true;
            attached = null;
        }
        return jcmdTool(args);
    }

    private com.sun.tools.attach.VirtualMachine attached;
    private java.lang.reflect.Method executeJCmd;
    private boolean attachFailed;

    private String jcmdTool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
        command.add(Long.toString(process.pid()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /**
     * Starts a JFR recording with the JDK's {@code default} settings (the {@code profile} settings record so many
     * contended-lock events here that the relay collapses under them at saturation).
     */
    void jfrStart(String name) throws IOException, InterruptedException {
        jcmd("JFR.start", "name=" + name, "settings=default");
    }

    /** Stops a JFR recording and writes it to {@code file}. */
    void jfrStop(String name, Path file) throws IOException, InterruptedException {
        Files.deleteIfExists(file);
        jcmd("JFR.stop", "name=" + name, "filename=" + file.toAbsolutePath());
    }

    @Override
    public void close() throws InterruptedException {
        if (attached != null) {
            try {
                attached.detach();
            } catch (IOException e) {
                // the server is ending anyway
            }
        }
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
