package org.mikrotext.bench;

import java.util.Arrays;
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
    double serverAccepted = -1;
    double serverDelivered = -1;
    double prepareSeconds;
    Map<String, Double> serverThreads = Map.of();
    Map<String, Object> threads;
    boolean stalledSocketOpenAtEnd;
    JfrSummary.Summary profile;

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
}
