namespace StepSharp.Kernels;

/// <summary>How <see cref="MatMul"/> multiplies Q8_0, Q4_K and Q6_K weights.</summary>
public enum ActivationMode
{
    /// <summary>F32 activations against the decoded weights: the "dequantize then F32" computation (testdata logits.q8_0-deq-f32).</summary>
    Float,
    /// <summary>Activations rounded to int8 blocks of 32 and integer dot products, for every product, as llama.cpp's CPU
    /// backend does (its vec_dot_type is Q8_0 for Q8_0 and Q8_K for Q4_K; testdata logits.q8_0).</summary>
    Int8,
    /// <summary>Int8 for decode steps (fewer tokens than a prefill tile), where the integer kernels read weights much
    /// faster than the float ones decode them; float for prefill, where the tiled float kernel wins. The default.</summary>
    Int8ForDecode,
}

/// <summary>
/// The activation mode of <see cref="MatMul"/> for Q8_0, Q4_K and Q6_K weights. The default is
/// <see cref="ActivationMode.Int8ForDecode"/> (measured on the mini shape, 1 thread: Q8_0 decode 81 → 105 tokens/s,
/// prefill unchanged at ~228 where the all-int8 path drops to 125). The environment variable
/// <c>STEPSHARP_Q8_ACTIVATIONS</c> = <c>0</c> (float), <c>1</c> (int8 everywhere) or <c>decode</c> sets the process
/// default; <see cref="Set"/> chooses for the calling thread (so a test or a session can choose without affecting
/// others running at the same time).
/// </summary>
public static class ActivationQuantization
{
    public const string EnvironmentVariable = "STEPSHARP_Q8_ACTIVATIONS";

    private static readonly ActivationMode s_default = Environment.GetEnvironmentVariable(EnvironmentVariable) switch
    {
        "1" or "true" or "int8" => ActivationMode.Int8,
        "0" or "false" or "float" => ActivationMode.Float,
        _ => ActivationMode.Int8ForDecode,
    };

    [ThreadStatic] private static int t_override;    // 0: use the default, else mode + 1

    /// <summary>The mode for matmuls called from this thread.</summary>
    public static ActivationMode Mode => t_override == 0 ? s_default : (ActivationMode)(t_override - 1);

    /// <summary>True when every matmul called from this thread quantizes its activations.</summary>
    public static bool Enabled => Mode == ActivationMode.Int8;

    /// <summary>Whether a product over <paramref name="tokens"/> tokens that would otherwise be <paramref name="tiled"/> uses int8 activations.</summary>
    internal static bool AppliesTo(bool tiled) => Mode switch
    {
        ActivationMode.Int8 => true,
        ActivationMode.Int8ForDecode => !tiled,
        _ => false,
    };

    /// <summary>Sets the mode for this thread until the returned scope is disposed.</summary>
    public static IDisposable Set(ActivationMode mode)
    {
        var scope = new Scope(t_override);
        t_override = (int)mode + 1;
        return scope;
    }

    /// <summary>The calling thread's setting, to hand to work items that run on other threads (no allocation).</summary>
    internal static int CaptureThreadSetting() => t_override;

    /// <summary>Installs a captured setting on this thread; returns the one it replaces.</summary>
    internal static int ApplyThreadSetting(int setting)
    {
        int previous = t_override;
        t_override = setting;
        return previous;
    }

    /// <summary>Int8 everywhere (true) or float everywhere (false) for this thread until the scope is disposed.</summary>
    public static IDisposable Enable(bool enabled = true) => Set(enabled ? ActivationMode.Int8 : ActivationMode.Float);

    private sealed class Scope(int previous) : IDisposable
    {
        public void Dispose() => t_override = previous;
    }
}
