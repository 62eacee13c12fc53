package org.mikrotext.it.support;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Payara Micro process started by a test itself, with the relay WAR at the context root, for tests that restart
 * or kill the server. Its output goes to a log file beside the test reports.
 */
public final class MicroProcess implements AutoCloseable {

    private final Path workDir;
    private final int port;
    private final Map<String, String> environment;
    private final List<String> removedEnvironment;
    private Process process;
    private int starts;

    public MicroProcess(Path workDir, Map<String, String> environment, List<String> removedEnvironment) {
        this.workDir = workDir;
        this.port = freePort();
        this.environment = environment;
        this.removedEnvironment = removedEnvironment;
    }

    public int port() {
        return port;
    }

    public URI base() {
        return URI.create("http://127.0.0.1:" + port + "/");
    }

    /** Starts the server and waits until the relay answers. */
    public MicroProcess start() throws IOException, InterruptedException {
        launch();
        awaitReady(Duration.ofSeconds(180));
        return this;
    }

    /**
     * Starts the server when the relay is expected not to deploy: waits until {@code logText} appears in the log (or
     * the server ends, or 180 s pass) and says whether it did.
     */
    public boolean startRefused(String logText) throws IOException, InterruptedException {
        launch();
        long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.readString(log().toPath(), StandardCharsets.UTF_8).contains(logText)) {
                return true;
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(500);
        }
        return Files.readString(log().toPath(), StandardCharsets.UTF_8).contains(logText);
    }

    private void launch() throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", System.getProperty("payara.microJar"),
                "--deploy", System.getProperty("mikrotext.it.war"),
                "--contextroot", "/", "--port", Integer.toString(port), "--nocluster"));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log()));
        removedEnvironment.forEach(builder.environment()::remove);
        builder.environment().putAll(environment);
        process = builder.start();
        starts++;
    }

    /** The server's log under {@code target/} (every start appends to it). */
    public File log() {
        return Path.of("target", "micro-" + port + ".log").toFile();
    }

    /** Stops the server the way an operator would (SIGTERM) and waits for it to end. */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    /** Kills the server without warning (SIGKILL). */
    public void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }

    /** Whether the relay answers at {@code base}: a room that cannot exist gets its 404 problem. */
    public static boolean servesRelay(HttpClient http, URI base) throws InterruptedException {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("api/rooms/" + "A".repeat(22)))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 404 && r.body().contains("room-not-found");
        } catch (IOException e) {
            return false; // not listening yet
        }
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Payara Micro ended during start " + starts + "; see " + log());
            }
            if (servesRelay(http, base())) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("Payara Micro did not start within " + timeout + "; see " + log());
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
