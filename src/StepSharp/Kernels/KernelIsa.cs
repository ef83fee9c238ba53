using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace StepSharp.Kernels;

/// <summary>The instruction-set tiers the kernels are written for, best last.</summary>
public enum Isa
{
    /// <summary>Plain scalar C#: the reference every faster tier is tested against; runs everywhere.</summary>
    Scalar = 0,
    /// <summary>256-bit vectors with AVX2 + FMA.</summary>
    Avx2 = 1,
    /// <summary>512-bit vectors with AVX-512 F/BW/VL.</summary>
    Avx512 = 2,
}

/// <summary>
/// Which tier the kernels use. Chosen once from the hardware, overridable by the environment variable
/// <c>STEPSHARP_ISA</c> (avx512 | avx2 | scalar) or, in tests and benchmarks, by <see cref="Force"/>.
/// The kernels read <see cref="Current"/> once per call (a switch on a static field is far cheaper than a
/// row), so forcing a tier takes effect on the next call without re-jitting anything.
/// </summary>
public static class KernelIsa
{
    public const string EnvironmentVariable = "STEPSHARP_ISA";

    /// <summary>The best tier this machine runs.</summary>
    public static Isa Best { get; } = Detect();

    // Declared after Best: static initialisers run in text order and this one reads Best.
    private static volatile int s_current = (int)FromEnvironment(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>The tier kernels use now.</summary>
    public static Isa Current => (Isa)s_current;

    /// <summary>True when this machine can execute <paramref name="isa"/>.</summary>
    public static bool IsSupported(Isa isa) => isa <= Best;

    /// <summary>Tiers this machine can run, scalar first (for tests that try each one).</summary>
    public static IEnumerable<Isa> Supported()
    {
        for (var isa = Isa.Scalar; isa <= Best; isa++) yield return isa;
    }

    /// <summary>Makes every kernel use <paramref name="isa"/> until the returned scope is disposed.</summary>
    /// <exception cref="PlatformNotSupportedException">The machine cannot run that tier.</exception>
    public static IDisposable Force(Isa isa)
    {
        if (!IsSupported(isa)) throw new PlatformNotSupportedException($"this machine supports kernels up to {Best}, not {isa}");
        var scope = new ForcedScope((Isa)s_current);
        s_current = (int)isa;
        return scope;
    }

    /// <summary>Parses a tier name as used by <c>STEPSHARP_ISA</c>; null or empty means the best one.</summary>
    public static Isa Parse(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" => Best,
        "avx512" => Isa.Avx512,
        "avx2" => Isa.Avx2,
        "scalar" => Isa.Scalar,
        _ => throw new ArgumentException($"{EnvironmentVariable}='{name}' is not one of avx512, avx2, scalar"),
    };

    private static Isa FromEnvironment(string? value)
    {
        Isa wanted = Parse(value);
        // Asking for more than the CPU has would crash with an illegal instruction; fall back instead.
        return wanted <= Best ? wanted : Best;
    }

    private static Isa Detect()
    {
        // BW is needed for the byte shuffles of the quantized kernels; F alone (Knights Landing) is not enough.
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && Avx512BW.IsSupported && Avx512F.VL.IsSupported) return Isa.Avx512;
        if (Avx2.IsSupported && Fma.IsSupported) return Isa.Avx2;
        return Isa.Scalar;
    }

    private sealed class ForcedScope(Isa previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            s_current = (int)previous;
        }
    }
}
