package org.mikrotext.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What is wrong with MikroText's settings, one sentence per key, gathered at start by each part that reads settings
 * (the relay's limits, the expiry sweep), so that a deployment with unusable values stops with one message naming
 * every such key and its value.
 */
public final class SettingProblems {

    private final List<String> problems = new ArrayList<>();

    /** A count or size: at least 1. */
    public SettingProblems atLeastOne(String key, int value) {
        if (value < 1) {
            problems.add(key + " must be at least 1 (it is " + value + ")");
        }
        return this;
    }

    /** A duration: more than zero. */
    public SettingProblems positive(String key, Duration value) {
        if (value.isNegative() || value.isZero()) {
            problems.add(key + " must be a positive duration (it is " + value + ")");
        }
        return this;
    }

    /** A problem that concerns more than one key, in its own words. */
    public SettingProblems add(String problem) {
        problems.add(problem);
        return this;
    }

    public List<String> list() {
        return List.copyOf(problems);
    }

    /** Stops the start (and with it the deployment) if there is any problem. */
    public static void refuseStartWith(List<String> problems) {
        if (!problems.isEmpty()) {
            throw new IllegalStateException("MikroText's configuration is not valid: " + String.join("; ", problems));
        }
    }
}
