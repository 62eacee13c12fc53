package org.mikrotext.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Payara Server domain that a test runs the way an operator does, with {@code asadmin}: {@code start-domain},
 * {@code deploy}, {@code undeploy}, {@code stop-domain}. The domain is a copy of the distribution's {@code domain1}
 * in a folder of its own, with every port moved to a free one (so that it never collides with a domain on 4848 or
 * a relay on 8080 that a developer runs, nor with another build). Copying takes a fraction of a second;
 * {@code asadmin create-domain --portbase} would do the same but generates certificates for about 20 s. The only
 * other change to domain1 is the JVM option {@code -XX:TieredStopAtLevel=1} (see {@link #prepareDomain()}).
 * The domain's JVM inherits the environment given here ({@code start-domain} passes its own on), which is how
 * MikroText's {@code ${ENV=DB_URL}} data source finds its database.
 * Every asadmin command's output is appended to {@code <domain>-asadmin.log} beside the domain; the server's own
 * log is kept as {@code <domain>-server.log} there when the domain is removed at {@link #close()}.
 */
public final class PayaraServer implements AutoCloseable {

    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(5);

    private final Path install;
    private final Path domainsDir;
    private final String prefix;
    private String domain;
    private final Map<String, String> environment;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private Long pid;

    /**
     * @param install     the unpacked distribution (the folder holding {@code bin/asadmin} and {@code glassfish/})
     * @param domainsDir  where the test's domain lives
     * @param prefix      the start of the domain's name (its admin port makes it unique)
     * @param environment variables for asadmin and so for the server, on top of this JVM's own
     */
    public PayaraServer(Path install, Path domainsDir, String prefix, Map<String, String> environment) {
        this.install = install.toAbsolutePath();
        this.domainsDir = domainsDir.toAbsolutePath();
        this.prefix = prefix;
        this.environment = Map.copyOf(environment);
    }

    /** The distribution's root folder under {@code unpacked} (for example {@code payara6}). */
    public static Path installUnder(Path unpacked) {
        try (Stream<Path> dirs = Files.list(unpacked)) {
            return dirs.filter(d -> Files.isRegularFile(d.resolve("glassfish/lib/client/appserver-cli.jar")))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException("No Payara Server distribution under " + unpacked
                            + " (it is unpacked by the it-tests build in process-test-resources)"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int adminPort() {
        return ports.get("admin");
    }

    public int httpPort() {
        return ports.get("http");
    }

    public Path domainDir() {
        return domainsDir.resolve(domain);
    }

    public Path serverLog() {
        return domainDir().resolve("logs/server.log");
    }

    public Path asadminLog() {
        return domainsDir.resolve(domain + "-asadmin.log");
    }

    /** Creates the domain on free ports and starts it; returns how long {@code start-domain} took. */
    public Duration start() throws IOException, InterruptedException {
        prepareDomain();
        long t0 = System.nanoTime();
        asadmin(false, "start-domain", "--domaindir", domainsDir.toString(), domain);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        pid = readPid().orElse(null);
        return took;
    }

    /** Deploys an archive under {@code name}; returns how long {@code deploy} took. */
    public Duration deploy(Path archive, String name) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        asadmin(true, "deploy", "--name", name, archive.toAbsolutePath().toString());
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    public Duration undeploy(String name) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        asadmin(true, "undeploy", name);
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    /** The server process, while it runs. */
    public Optional<ProcessHandle> process() {
        if (pid == null) {
            try {
                pid = readPid().orElse(null);
            } catch (IOException | RuntimeException e) {
                return Optional.empty();
            }
        }
        return pid == null ? Optional.empty() : ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    }

    /** Stops the domain with {@code stop-domain}; returns how long it took. */
    public Duration stop() throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        asadmin(false, "stop-domain", "--domaindir", domainsDir.toString(), domain);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        awaitEnd(Duration.ofSeconds(30));
        return took;
    }

    /** Stops the domain if it still runs, and kills its process (by its id) if stopping did not end it. */
    @Override
    public void close() throws InterruptedException {
        if (process().isPresent()) {
            try {
                asadmin(false, "stop-domain", "--domaindir", domainsDir.toString(), domain);
            } catch (IOException | RuntimeException e) {
                // killed below
            }
            awaitEnd(Duration.ofSeconds(30));
        }
        process().ifPresent(p -> {
            p.destroyForcibly();
            p.onExit().orTimeout(30, TimeUnit.SECONDS).join();
        });
        if (domain != null && Files.isDirectory(domainDir())) {
            // Keep the server's log beside the asadmin log; the domain itself (about 130 MB once run) goes.
            try {
                if (Files.isRegularFile(serverLog())) {
                    Files.move(serverLog(), keptServerLog(), StandardCopyOption.REPLACE_EXISTING);
                }
                deleteTree(domainDir());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Where the server's log is kept once the domain is gone. */
    public Path keptServerLog() {
        return domainsDir.resolve(domain + "-server.log");
    }

    // ---- domain --------------------------------------------------------------------------------------------------

    private void prepareDomain() throws IOException {
        for (String name : List.of("admin", "http", "https", "iiop", "iiop-ssl", "iiop-mutual", "jms", "jmx",
                "osgi-shell", "debug", "hazelcast-das", "hazelcast")) {
            ports.put(name, 0);
        }
        List<Integer> free = freePorts(ports.size());
        int i = 0;
        for (String name : ports.keySet()) {
            ports.put(name, free.get(i++));
        }
        // A name of its own, so that builds running side by side never share a domain.
        domain = prefix + "-" + ports.get("admin");
        Path dir = domainDir();
        Files.createDirectories(domainsDir);
        copyTree(install.resolve("glassfish/domains/domain1"), dir);
        Path xml = dir.resolve("config/domain.xml");
        String config = Files.readString(xml, StandardCharsets.UTF_8);
        // The listeners of server-config (the DAS) have literal ports; default-config's use system properties.
        config = replaceOnce(config, "port=\"4848\"", "port=\"" + ports.get("admin") + "\"");
        config = replaceOnce(config, "port=\"8080\"", "port=\"" + ports.get("http") + "\"");
        config = replaceOnce(config, "port=\"8181\"", "port=\"" + ports.get("https") + "\"");
        config = replaceOnce(config, "port=\"3700\"", "port=\"" + ports.get("iiop") + "\"");
        config = replaceOnce(config, "port=\"3820\"", "port=\"" + ports.get("iiop-ssl") + "\"");
        config = replaceOnce(config, "port=\"3920\"", "port=\"" + ports.get("iiop-mutual") + "\"");
        config = replaceOnce(config, "port=\"8686\"", "port=\"" + ports.get("jmx") + "\"");
        config = replaceOnce(config, "value=\"7676\"", "value=\"" + ports.get("jms") + "\"");
        config = replaceOnce(config, "telnet.port=6666", "telnet.port=" + ports.get("osgi-shell"));
        // The DAS's java-config (server-config's, the one with the literal debug port): C1 only, which starts and
        // deploys about a third faster on two busy cores; nothing else of domain1 is changed.
        config = replaceOnce(config, "address=9009\">", "address=" + ports.get("debug") + "\">"
                + "<jvm-options>-XX:TieredStopAtLevel=1</jvm-options>");
        config = replaceOnce(config, "start-port=\"5900\"", "start-port=\"" + ports.get("hazelcast") + "\"");
        config = replaceOnce(config, "das-port=\"4900\"", "das-port=\"" + ports.get("hazelcast-das") + "\"");
        Files.writeString(xml, config, StandardCharsets.UTF_8);
    }

    private static String replaceOnce(String text, String from, String to) {
        int at = text.indexOf(from);
        if (at < 0 || text.indexOf(from, at + 1) >= 0) {
            throw new IllegalStateException("domain1's domain.xml no longer has exactly one " + from
                    + "; this Payara version lays out its ports differently");
        }
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    private Optional<Long> readPid() throws IOException {
        if (domain == null) {
            return Optional.empty();
        }
        Path file = domainDir().resolve("config/pid");
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        String text = Files.readString(file).trim();
        return text.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(text));
    }

    private void awaitEnd(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process().isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
    }

    // ---- asadmin -------------------------------------------------------------------------------------------------

    /** Runs {@code asadmin} (remote commands against this domain's admin port); returns its output. */
    private String asadmin(boolean remote, String... args) throws IOException, InterruptedException {
        boolean windows = System.getProperty("os.name").toLowerCase().startsWith("windows");
        List<String> command = new ArrayList<>();
        command.add(install.resolve(windows ? "bin/asadmin.bat" : "bin/asadmin").toString());
        command.add("--interactive=false");
        if (remote) {
            command.addAll(List.of("--host", "127.0.0.1", "--port", Integer.toString(adminPort())));
        }
        command.addAll(List.of(args));
        Path output = domainsDir.resolve(domain + "-asadmin.out");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        // asadmin and the server run on the JDK that runs the tests.
        builder.environment().put("AS_JAVA", System.getProperty("java.home"));
        builder.environment().putAll(environment);
        Process process = builder.start();
        boolean ended = process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (!ended) {
            process.destroyForcibly().waitFor();
        }
        String text = Files.readString(output, StandardCharsets.UTF_8);
        Files.deleteIfExists(output);
        Files.writeString(asadminLog(), "$ asadmin " + String.join(" ", command.subList(1, command.size())) + "\n"
                + text + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (!ended) {
            throw new IllegalStateException("asadmin " + args[0] + " did not end within " + COMMAND_TIMEOUT
                    + "; see " + asadminLog() + " and " + keptServerLog());
        }
        if (process.exitValue() != 0) {
            throw new IllegalStateException("asadmin " + args[0] + " failed (exit " + process.exitValue() + "):\n"
                    + text + "\nServer log: " + keptServerLog());
        }
        return text;
    }

    // ---- files and ports -----------------------------------------------------------------------------------------

    private static List<Integer> freePorts(int count) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            List<Integer> free = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0);
                sockets.add(socket);
                free.add(socket.getLocalPort());
            }
            return free;
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path source : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
