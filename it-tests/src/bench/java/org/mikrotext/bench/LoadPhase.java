package org.mikrotext.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one timed load phase sent and what came back: delivery latencies (per receiver group), ack latencies,
 * counts inside the timing window, errors by kind, the sender thread's lag, and a few received envelopes kept
 * for an end-to-end check after the phase.
 */
final class LoadPhase {

    /** A growable array of nanosecond samples. */
    static final class Samples {
        private long[] values = new long[1024];
        private int size;

        synchronized void add(long v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        synchronized long[] sorted() {
            long[] copy = Arrays.copyOf(values, size);
            Arrays.sort(copy);
            return copy;
        }

        synchronized int size() {
            return size;
        }
    }

    /** Percentiles in milliseconds of sorted nanosecond samples. */
    record Percentiles(long count, double p50, double p90, double p99, double p999, double max) {
        static Percentiles of(long[] sorted) {
            if (sorted.length == 0) {
                return new Percentiles(0, 0, 0, 0, 0, 0);
            }
            return new Percentiles(sorted.length, ms(at(sorted, 0.50)), ms(at(sorted, 0.90)), ms(at(sorted, 0.99)),
                    ms(at(sorted, 0.999)), ms(sorted[sorted.length - 1]));
        }

        private static long at(long[] sorted, double q) {
            int i = (int) Math.ceil(q * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
        }

        private static double ms(long nanos) {
            return Math.round(nanos / 1e4) / 100.0;
        }
    }

    /** A received envelope kept for the end-to-end check. */
    record Captured(Population.Member receiver, SenderChain chain, String frame) {
    }

    final String name;
    final int number;
    final double rate;
    final int seconds;
    final int rooms;
    final int participantsPerRoom;

    /** Delivery latency (send to receipt) by receiver group: 0 ordinary, 1 room-mate of the stalled member, 2 stalled. */
    final Samples[] deliveries = {new Samples(), new Samples(), new Samples()};
    final Samples acks = new Samples();
    /** The deliveries whose receiver's socket is on another relay instance than the sender's ({@code shared}). */
    final Samples crossRelay = new Samples();
    /** The worst delivery latency received in each 100 ms of the window: do slow deliveries come together? */
    static final long SLICE_NANOS = 100_000_000L;
    final java.util.concurrent.atomic.AtomicLongArray worstBySlice = new java.util.concurrent.atomic.AtomicLongArray(
            36_000);
    final Samples senderLag = new Samples();
    final AtomicLong sent = new AtomicLong();
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong deliveredInWindow = new AtomicLong();
    final AtomicLong acked = new AtomicLong();
    final AtomicLong ackedInWindow = new AtomicLong();
    final AtomicLong echoes = new AtomicLong();
    final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<Captured> captured = new ConcurrentLinkedQueue<>();
    final AtomicInteger capturedCount = new AtomicInteger();
    volatile long windowStart = Long.MAX_VALUE;
    volatile long windowEnd = Long.MAX_VALUE;
    long expectedDeliveries;
    long expectedAcks;
    final AtomicLong rejectedSends = new AtomicLong();
    final AtomicLong rejectedReaders = new AtomicLong();
    volatile boolean finished;
    ProcStats.CpuUse cpu;
    /** The relay's envelopes handed out from just before the window to after the drain. */
    double serverAccepted = -1;
    /** The same counts from just before the window to its end. */
    double serverAcceptedInWindow = -1;
    double serverDeliveredInWindow = -1;
    /** The relay's write system calls over the same window as its metrics (sockets, database, log), or -1. */
    double relayWriteCalls = -1;
    /** The relay's group commits between the metrics read before and after the phase, and their time. */
    double groupCommits = -1;
    double storeSeconds;
    double publishSeconds;
    double metricsSeconds;
    /** The longest group commit and hand-over the relay reports (its timers' recent maximum). */
    double storeMaxSeconds;
    double publishMaxSeconds;
    /** The relay's own p99 of a group commit and of a hand-over (its timers' recent window). */
    double storeP99Seconds = -1;
    double publishP99Seconds = -1;
    double prepareSeconds;
    long loadGeneratorGcMillis;
    Map<String, Double> serverThreads = Map.of();
    Map<String, Object> threads;
    boolean stalledSocketOpenAtEnd;
    JfrSummary.Summary profile;
    /** The whole machine under Linux perf during a profiled phase, when perf may record here. */
    MachineProfile.Summary machine;

    LoadPhase(String name, int number, double rate, int seconds, int rooms, int participantsPerRoom) {
        this.name = name;
        this.number = number;
        this.rate = rate;
        this.seconds = seconds;
        this.rooms = rooms;
        this.participantsPerRoom = participantsPerRoom;
    }

    boolean inWindow(long now) {
        return now >= windowStart && now <= windowEnd;
    }

    void delivery(int group, long latency, long now) {
        deliveries[group].add(latency);
        long slice = (now - windowStart) / SLICE_NANOS;
        if (slice >= 0 && slice < worstBySlice.length()) {
            worstBySlice.accumulateAndGet((int) slice, latency, Math::max);
        }
        delivered.incrementAndGet();
        if (inWindow(now)) {
            deliveredInWindow.incrementAndGet();
        }
    }

    void ack(long latency, long now) {
        acks.add(latency);
        acked.incrementAndGet();
        if (inWindow(now)) {
            ackedInWindow.incrementAndGet();
        }
    }

    void error(String kind) {
        errors.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    long errorCount() {
        return errors.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** The relay's writer, per phase: group commits, envelopes per commit, and how busy writer and publisher were. */
    String writerSummary() {
        if (groupCommits <= 0 || metricsSeconds <= 0) {
            return "no group commits measured";
        }
        return String.format("%.0f group commits/s, %.1f envelopes each, %.2f ms each (p99 %.1f ms, longest %.0f ms); "
                        + "writers busy %.0f%% of one thread, publisher busy %.0f%% "
                        + "(p99 %.1f ms, longest batch %.0f ms)",
                groupCommits / metricsSeconds, serverAccepted / groupCommits, 1000 * storeSeconds / groupCommits,
                millis(storeP99Seconds), millis(storeMaxSeconds), 100 * storeSeconds / metricsSeconds,
                100 * publishSeconds / metricsSeconds, millis(publishP99Seconds), millis(publishMaxSeconds))
                + (writeCallsPerEnvelope() < 0 ? "" : String.format("; %.1f write calls per envelope",
                writeCallsPerEnvelope()));
    }

    /** The relay's write system calls per envelope it accepted in this phase, or -1 if either is unknown. */
    double writeCallsPerEnvelope() {
        return relayWriteCalls < 0 || serverAccepted <= 0 ? -1 : relayWriteCalls / serverAccepted;
    }

    /** Payara reports a timer's sum in seconds but its maximum (and quantiles) in nanoseconds; either way, in ms. */
    private static double millis(double max) {
        return max > 1000 ? max / 1e6 : max * 1000;
    }

    /** The 100 ms slices whose worst delivery took over 50 ms: how many, and the worst five with their times. */
    String slowSlices() {
        List<long[]> slow = new java.util.ArrayList<>();
        for (int i = 0; i < worstBySlice.length(); i++) {
            long worst = worstBySlice.get(i);
            if (worst > 50_000_000L) {
                slow.add(new long[] {i, worst});
            }
        }
        if (slow.isEmpty()) {
            return "no 100 ms slice with a delivery over 50 ms";
        }
        slow.sort((a, b) -> Long.compare(b[1], a[1]));
        StringBuilder out = new StringBuilder(slow.size() + " slices of 100 ms with a delivery over 50 ms; worst:");
        for (long[] s : slow.subList(0, Math.min(5, slow.size()))) {
            out.append(String.format(" +%.1f s %.0f ms,", s[0] / 10.0, s[1] / 1e6));
        }
        return out.substring(0, out.length() - 1);
    }

    double windowSeconds() {
        return (windowEnd - windowStart) / 1e9;
    }

    double acceptedPerSec() {
        return ackedInWindow.get() / windowSeconds();
    }

    double deliveredPerSec() {
        return deliveredInWindow.get() / windowSeconds();
    }

    /** Delivery percentiles over the receiver groups given. */
    Percentiles latency(int... groups) {
        long[] all = new long[0];
        for (int g : groups) {
            long[] s = deliveries[g].sorted();
            long[] merged = Arrays.copyOf(all, all.length + s.length);
            System.arraycopy(s, 0, merged, all.length, s.length);
            all = merged;
        }
        Arrays.sort(all);
        return Percentiles.of(all);
    }

    Percentiles latency() {
        return latency(0, 1, 2);
    }

    /** Percentiles of the deliveries that went from one relay instance to another. */
    Percentiles crossRelayLatency() {
        return Percentiles.of(crossRelay.sorted());
    }
}
