package org.mikrotext.relay.envelope.boundary;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipFile;

/**
 * The container's own classes for tests of the code that reaches into them: jars taken from inside the Payara Micro the
 * relay runs on ({@code payara.microJar}), in a class loader that finds {@code org.glassfish.*} classes itself first,
 * since this module's test classes hold stand-ins of some of them. Reflection helpers, as the classes are not on the
 * compile path.
 */
final class PayaraClasses {

    private PayaraClasses() {
    }

    /** A loader over these jars of Payara Micro's {@code MICRO-INF/runtime}, copied into {@code dir}. */
    static URLClassLoader of(Path dir, String... runtimeJars) throws IOException {
        URL[] urls = new URL[runtimeJars.length];
        try (ZipFile micro = new ZipFile(System.getProperty("payara.microJar"))) {
            for (int i = 0; i < runtimeJars.length; i++) {
                Path jar = dir.resolve(runtimeJars[i]);
                try (InputStream in = micro.getInputStream(micro.getEntry("MICRO-INF/runtime/" + runtimeJars[i]))) {
                    Files.copy(in, jar, StandardCopyOption.REPLACE_EXISTING);
                }
                urls[i] = jar.toUri().toURL();
            }
        }
        return new URLClassLoader(urls, PayaraClasses.class.getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                if (!name.startsWith("org.glassfish.")) {
                    return super.loadClass(name, resolve);
                }
                synchronized (getClassLoadingLock(name)) {
                    Class<?> type = findLoadedClass(name);
                    return type != null ? type : findClass(name);
                }
            }
        };
    }

    /** A new instance through the declared constructor taking these arguments' types, accessible or not. */
    static Object construct(Class<?> type, Class<?>[] parameters, Object... args) throws ReflectiveOperationException {
        Constructor<?> constructor = type.getDeclaredConstructor(parameters);
        constructor.setAccessible(true);
        return constructor.newInstance(args);
    }

    static Object field(Object owner, String name) throws ReflectiveOperationException {
        return GrizzlyOutputBuffer.field(owner.getClass(), name).get(owner);
    }

    static void set(Object owner, String name, Object value) throws ReflectiveOperationException {
        GrizzlyOutputBuffer.field(owner.getClass(), name).set(owner, value);
    }

    /** Calls the method of that name (public, or declared by the target's class) that takes these arguments. */
    static Object call(Object target, String name, Object... args) throws ReflectiveOperationException {
        for (Method method : target.getClass().getMethods()) {
            if (matches(method, name, args)) {
                method.setAccessible(true);
                return method.invoke(target, args);
            }
        }
        for (Method method : target.getClass().getDeclaredMethods()) {
            if (matches(method, name, args)) {
                method.setAccessible(true);
                return method.invoke(target, args);
            }
        }
        throw new NoSuchMethodException(target.getClass().getName() + "." + name);
    }

    private static boolean matches(Method method, String name, Object[] args) {
        if (!method.getName().equals(name) || method.getParameterCount() != args.length) {
            return false;
        }
        Class<?>[] types = method.getParameterTypes();
        for (int i = 0; i < args.length; i++) {
            Class<?> type = types[i] == int.class ? Integer.class : types[i];
            if (args[i] != null && !type.isInstance(args[i])) {
                return false;
            }
        }
        return true;
    }
}
