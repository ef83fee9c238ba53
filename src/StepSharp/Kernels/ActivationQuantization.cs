namespace StepSharp.Kernels;

/// <summary>
/// Whether <see cref="MatMul"/> rounds the activations to int8 blocks of 32 before multiplying Q8_0 or Q4_K
/// weights, as llama.cpp's CPU backend does (its vec_dot_type is Q8_0 for Q8_0 and Q8_K for Q4_K): integer
/// products, much less work per weight byte, and for Q8_0 logits that follow llama.cpp's own Q8_0 run
/// (testdata logits.q8_0.*) rather than the "dequantize then F32" reference (logits.q8_0-deq-f32.*). Off by default; on with the environment
/// variable <c>STEPSHARP_Q8_ACTIVATIONS=1</c>, or for the calling thread with <see cref="Enable"/> (a thread
/// setting, so a test or a session can choose without affecting others running at the same time).
/// </summary>
public static class ActivationQuantization
{
    public const string EnvironmentVariable = "STEPSHARP_Q8_ACTIVATIONS";

    private static readonly bool s_default = Environment.GetEnvironmentVariable(EnvironmentVariable) is "1" or "true";

    [ThreadStatic] private static int t_override;    // 0: use the default, 1: off, 2: on

    /// <summary>True when matmuls called from this thread quantize their activations.</summary>
    public static bool Enabled => t_override == 0 ? s_default : t_override == 2;

    /// <summary>Sets the choice for this thread until the returned scope is disposed.</summary>
    public static IDisposable Enable(bool enabled = true)
    {
        var scope = new Scope(t_override);
        t_override = enabled ? 2 : 1;
        return scope;
    }

    private sealed class Scope(int previous) : IDisposable
    {
        public void Dispose() => t_override = previous;
    }
}
