using System.Text.Json;

namespace StepSharp.Tests.Support;

/// <summary>A llama.cpp reference logits file (format in testdata/step35-tiny/README.md).</summary>
public sealed class ReferenceLogits
{
    public required int[] Tokens { get; init; }
    public required float[][] Batch { get; init; }    // [position][vocab]
    public required float[][] Seq { get; init; }
    public required int[] GreedyTokens { get; init; }

    public static ReferenceLogits Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        return new ReferenceLogits
        {
            Tokens = Ints(root.GetProperty("tokens")),
            Batch = Rows(root.GetProperty("batch")),
            Seq = root.TryGetProperty("seq", out var seq) ? Rows(seq) : [],
            GreedyTokens = root.TryGetProperty("greedy_tokens", out var g) ? Ints(g) : [],
        };
    }

    private static float[][] Rows(JsonElement entries)
    {
        var rows = new float[entries.GetArrayLength()][];
        int i = 0;
        foreach (var e in entries.EnumerateArray())
        {
            var logits = e.GetProperty("logits");
            var row = new float[logits.GetArrayLength()];
            int j = 0;
            foreach (var v in logits.EnumerateArray()) row[j++] = v.GetSingle();
            rows[i++] = row;
        }
        return rows;
    }

    private static int[] Ints(JsonElement a)
    {
        var r = new int[a.GetArrayLength()];
        int i = 0;
        foreach (var v in a.EnumerateArray()) r[i++] = v.GetInt32();
        return r;
    }

    public static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
