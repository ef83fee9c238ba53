using StepSharp.Kernels;
using StepSharp.Tensors.Blocks;

namespace StepSharp.Models.Common;

/// <summary>
/// One token's expert FFNs, the k selected experts and the shared one, as two parallel phases: every FFN's gate and
/// up rows, then every FFN's down rows, each FFN split into row ranges so that all threads have work to the end
/// of a phase. Each FFN's SwiGLU product and its rounding to int8 run on the thread that finishes its gate and up rows.
/// </summary>
/// <remarks>
/// Replaces one work item per routed expert followed by the shared expert's own parallel matmuls: with 8 whole experts
/// on 2 threads the caller waited for the worker's last expert (~1.7 % of a mini decode step at 2 threads), and the
/// shared expert added two fork/joins and serial SwiGLU work a layer while the worker idled. One thread runs the same
/// items in order, one call per expert matrix as before.
/// </remarks>
internal sealed class MoeDecodeJob : IParallelJob
{
    private static readonly KernelThreadPool Inline = new(1);

    /// <summary>Work items per phase at least this many times the threads, so the last items are short.</summary>
    private const int ItemsPerThread = 4;

    private FeedForward? _routed, _shared;
    private int[] _experts = [], _unfinished = [];
    private int _k, _parts, _stride; // _stride: floats between two FFNs' gate (and up) rows, the largest ff
    private bool _down;
    private DecodeActivations? _input;
    private float[] _gate = [], _up = [], _outputs = [];
    private DecodeActivations[] _downInputs = [];
    private int _activationSetting; // the caller's activation mode, which is thread-local, for the workers

    /// <summary>
    /// outputs[j·D..] = FFN_j(input) for j &lt; k the routed experts <paramref name="experts"/> of <paramref name="routed"/>,
    /// and j = k the <paramref name="shared"/> FFN when there is one. Returns the outputs (valid until the next call).
    /// </summary>
    public ReadOnlySpan<float> Run(KernelThreadPool pool, DecodeActivations input, FeedForward routed, ReadOnlySpan<int> experts, FeedForward? shared)
    {
        int k = experts.Length, ffns = k + (shared is null ? 0 : 1), D = routed.HiddenSize;
        int ff = Math.Max(routed.FeedForwardSize, shared?.FeedForwardSize ?? 0);
        if (_experts.Length < k) _experts = new int[k];
        experts.CopyTo(_experts);
        if (_gate.Length < ffns * ff) { _gate = new float[ffns * ff]; _up = new float[ffns * ff]; }
        if (_outputs.Length < ffns * D) _outputs = new float[ffns * D];
        if (_downInputs.Length < ffns)
        {
            var grown = new DecodeActivations[ffns];
            _downInputs.CopyTo(grown, 0);
            for (int j = _downInputs.Length; j < ffns; j++) grown[j] = new DecodeActivations();
            _downInputs = grown;
        }
        _routed = routed;
        _shared = shared;
        _k = k;
        _stride = ff;
        _input = input;
        _parts = Parts(ffns, pool.ThreadCount);
        _activationSetting = ActivationQuantization.CaptureThreadSetting();
        try
        {
            _down = false;
            if (_unfinished.Length < ffns) _unfinished = new int[ffns];
            _unfinished.AsSpan(0, ffns).Fill(_parts);
            pool.Run(this, ffns * _parts);
            _down = true;
            pool.Run(this, ffns * _parts);
        }
        finally
        {
            _routed = _shared = null;
            _input = null;
        }
        return _outputs.AsSpan(0, ffns * D);
    }

    public void Execute(int index)
    {
        int j = index / _parts, part = index % _parts;
        FeedForward ffn = Ffn(j, out int expert);
        int ff = ffn.FeedForwardSize, D = ffn.HiddenSize, stride = _stride;
        int previous = ActivationQuantization.ApplyThreadSetting(_activationSetting);
        try
        {
            if (!_down)
            {
                (int first, int count) = Part(ff, part);
                if (count > 0)
                {
                    MatMul.Compute(Inline, ffn.Gate, (long)expert * ff + first, count, _input!, _gate.AsSpan(j * stride + first, count));
                    MatMul.Compute(Inline, ffn.Up, (long)expert * ff + first, count, _input!, _up.AsSpan(j * stride + first, count));
                }
                // The thread that writes the FFN's last gate and up rows makes its down projection's input, so that this
                // work stays parallel (run by the caller between the phases it was ~3 % of its samples at 2 threads, mini
                // Q4_K_M: SwiGLU, rounding to int8, permuting). The decrement is a full fence: the other parts' rows are
                // visible once it reaches zero.
                if (Interlocked.Decrement(ref _unfinished[j]) == 0)
                {
                    Span<float> g = _gate.AsSpan(j * stride, ff);
                    SwiGlu.Apply(g, _up.AsSpan(j * stride, ff), ffn.SwiGluLimit);
                    _downInputs[j].Prepare(g, ffn.Down.Type);
                }
            }
            else
            {
                (int first, int count) = Part(D, part);
                if (count == 0) return;
                MatMul.Compute(Inline, ffn.Down, (long)expert * D + first, count, _downInputs[j], _outputs.AsSpan(j * D + first, count));
            }
        }
        finally
        {
            ActivationQuantization.ApplyThreadSetting(previous);
        }
    }

    /// <summary>
    /// Row ranges per FFN: at least <see cref="ItemsPerThread"/> items a thread, and a multiple of the threads, so that
    /// equal items end together (9 whole FFNs on 2 threads left one thread a whole FFN alone at the end of each phase).
    /// </summary>
    private static int Parts(int ffns, int threads)
    {
        if (threads == 1) return 1;
        int parts = Math.Max(1, (ItemsPerThread * threads + ffns - 1) / ffns);
        while (ffns * parts % threads != 0) parts++;
        return parts;
    }

    /// <summary>FFN j: a routed expert (its index in the stack) or, last, the shared one (index 0).</summary>
    private FeedForward Ffn(int j, out int expert)
    {
        bool isShared = j == _k;
        expert = isShared ? 0 : _experts[j];
        return isShared ? _shared! : _routed!;
    }

    /// <summary>
    /// Row range <paramref name="part"/> of <see cref="_parts"/> over <paramref name="rows"/> rows, whole four-row groups
    /// (the in-memory layouts' unit; a range that starts inside a group would take the scalar path).
    /// </summary>
    private (int First, int Count) Part(int rows, int part)
    {
        int groups = (rows + InMemoryLayouts.GroupRows - 1) / InMemoryLayouts.GroupRows;
        int first = Math.Min(rows, (int)((long)groups * part / _parts) * InMemoryLayouts.GroupRows);
        int end = Math.Min(rows, (int)((long)groups * (part + 1) / _parts) * InMemoryLayouts.GroupRows);
        return (first, end - first);
    }
}
