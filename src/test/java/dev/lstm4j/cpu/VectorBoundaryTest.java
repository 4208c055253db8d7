package dev.lstm4j.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.Vector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * No method, constructor or field of ours in the packages that use the Vector API ({@code dev.lstm4j.cpu},
 * {@code dev.lstm4j.nn}) takes, returns or holds a vector, mask or shuffle: every vector lives and dies inside one
 * method body, and our methods pass each other only segments, arrays, offsets and scalars.
 *
 * <p>Why: a vector is a value only while C2 can see all of its uses. Passed to, or returned from, a method that C2
 * does not inline, it must be a real heap object, and C2 then boxes the value where it is defined, even at every
 * FMA inside a hot loop. Whether C2 inlines a small helper is not deterministic (it depends on which method was
 * compiled first: "already compiled into a big method", "callee is too large"), so such code allocates in some runs
 * and not in others; CI once measured 361,984 bytes per LSTM time step from a store(FloatVector) helper. Species
 * ({@link VectorSpecies}) are constants, not values, and are fine anywhere.
 *
 * <p>Every class of the two packages is checked, nested, anonymous and synthetic ones included, with every declared
 * method (lambda bodies are synthetic methods of their class), constructor and field, and the type arguments and
 * array components of their generic types.
 */
class VectorBoundaryTest {

    @Test
    void noVectorCrossesAMethodBoundary() throws Exception {
        List<String> violations = new ArrayList<>();
        int classes = 0;
        for (String pkg : List.of("dev.lstm4j.cpu", "dev.lstm4j.nn")) {
            List<Class<?>> found = classesOf(pkg);
            assertTrue(found.size() >= 5, () -> pkg + ": expected its classes on the class path, found " + found);
            for (Class<?> c : found) violations.addAll(violations(c));
            classes += found.size();
        }
        int checked = classes;
        assertTrue(violations.isEmpty(), () -> "vectors must not cross a method boundary or live in a field (they are "
                + "boxed on the heap when the call is not inlined); " + checked + " classes checked, found:\n  "
                + String.join("\n  ", violations));
    }

    @Test
    void classListIncludesTheVectorKernels() throws Exception {
        List<String> names = classesOf("dev.lstm4j.cpu").stream().map(Class::getName).toList();
        for (String expected : List.of("dev.lstm4j.cpu.FusedPointwise", "dev.lstm4j.cpu.VectorActivation",
                "dev.lstm4j.cpu.VectorMath", "dev.lstm4j.cpu.PackedGemm")) {
            assertTrue(names.contains(expected), () -> expected + " not among " + names);
        }
        assertTrue(names.stream().anyMatch(n -> n.contains("$")), () -> "no nested class found among " + names);
    }

    /** The check itself finds each kind of crossing (a guard that can never fail guards nothing). */
    @Test
    void detectsEveryKindOfCrossing() {
        List<String> v = violations(Offender.class);
        assertEquals(List.of(
                "field dev.lstm4j.cpu.VectorBoundaryTest$Offender.held: jdk.incubator.vector.FloatVector",
                "field dev.lstm4j.cpu.VectorBoundaryTest$Offender.masks: java.util.List<jdk.incubator.vector.VectorMask<java.lang.Float>>",
                "constructor dev.lstm4j.cpu.VectorBoundaryTest$Offender(jdk.incubator.vector.VectorShuffle<java.lang.Float>) parameter 0: jdk.incubator.vector.VectorShuffle<java.lang.Float>",
                "method dev.lstm4j.cpu.VectorBoundaryTest$Offender.load returns jdk.incubator.vector.FloatVector",
                "method dev.lstm4j.cpu.VectorBoundaryTest$Offender.store parameter 0: jdk.incubator.vector.FloatVector[]"),
                v.stream().sorted(VectorBoundaryTest::byKind).toList());
    }

    @SuppressWarnings("unused")
    private static final class Offender {
        private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED; // fine: a constant
        private FloatVector held;
        private List<VectorMask<Float>> masks;

        Offender(VectorShuffle<Float> shuffle) {}

        static FloatVector load(float[] a) {
            return FloatVector.fromArray(S, a, 0);
        }

        static void store(FloatVector[] v, float[] a) {}

        static void fine(float[] a, int off, VectorSpecies<Float> s) {}
    }

    private static int byKind(String a, String b) {
        return Integer.compare(rank(a), rank(b)) != 0 ? Integer.compare(rank(a), rank(b)) : a.compareTo(b);
    }

    private static int rank(String s) {
        return s.startsWith("field") ? 0 : s.startsWith("constructor") ? 1 : 2;
    }

    /** Every declared field, constructor and method of c (not inherited ones) whose type involves a vector. */
    static List<String> violations(Class<?> c) {
        List<String> out = new ArrayList<>();
        for (Field f : c.getDeclaredFields()) {
            if (involvesVector(f.getGenericType())) {
                out.add("field " + c.getName() + "." + f.getName() + ": " + f.getGenericType().getTypeName());
            }
        }
        for (Constructor<?> k : c.getDeclaredConstructors()) {
            checkParameters("constructor " + c.getName() + "(" + signature(k) + ")", k, out);
        }
        for (Method m : c.getDeclaredMethods()) {
            String name = "method " + c.getName() + "." + m.getName();
            if (involvesVector(m.getGenericReturnType())) {
                out.add(name + " returns " + m.getGenericReturnType().getTypeName());
            }
            checkParameters(name, m, out);
        }
        return out;
    }

    private static void checkParameters(String name, Executable e, List<String> out) {
        // the erased types too: synthetic methods (lambda bodies, bridges) may carry no generic signature
        Type[] generic = e.getGenericParameterTypes();
        Class<?>[] erased = e.getParameterTypes();
        for (int i = 0; i < erased.length; i++) {
            Type t = i < generic.length && generic.length == erased.length ? generic[i] : erased[i];
            if (involvesVector(t) || involvesVector(erased[i])) {
                out.add(name + " parameter " + i + ": " + t.getTypeName());
            }
        }
    }

    private static String signature(Executable e) {
        return String.join(", ", Stream.of(e.getGenericParameterTypes()).map(Type::getTypeName).toList());
    }

    /** A vector, mask or shuffle type, an array of one, or a generic type with one among its arguments. */
    static boolean involvesVector(Type t) {
        if (t instanceof Class<?> c) {
            if (c.isArray()) return involvesVector(c.getComponentType());
            return Vector.class.isAssignableFrom(c) || VectorMask.class.isAssignableFrom(c)
                    || VectorShuffle.class.isAssignableFrom(c);
        }
        if (t instanceof ParameterizedType p) {
            if (involvesVector(p.getRawType())) return true;
            for (Type a : p.getActualTypeArguments()) {
                if (involvesVector(a)) return true;
            }
            return false;
        }
        if (t instanceof GenericArrayType g) return involvesVector(g.getGenericComponentType());
        if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) if (involvesVector(b)) return true;
            for (Type b : w.getLowerBounds()) if (involvesVector(b)) return true;
        }
        return false; // type variables: none of ours is bounded by a vector type
    }

    /** The classes compiled into one package directory of the main class path (nested ones included). */
    static List<Class<?>> classesOf(String pkg) throws IOException, URISyntaxException, ClassNotFoundException {
        // FusedPointwise's class file locates the main classes (target/classes), not the test classes
        URL base = FusedPointwise.class.getProtectionDomain().getCodeSource().getLocation();
        Path root = Path.of(base.toURI());
        assertTrue(Files.isDirectory(root), () -> "expected the main classes as a directory, got " + root);
        Path dir = root.resolve(pkg.replace('.', '/'));
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                String file = f.getFileName().toString();
                if (!file.endsWith(".class") || file.equals("package-info.class")) continue;
                String name = pkg + "." + file.substring(0, file.length() - ".class".length());
                out.add(Class.forName(name, false, VectorBoundaryTest.class.getClassLoader()));
            }
        }
        return out;
    }
}
