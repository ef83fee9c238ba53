using StepSharp.Tensors;

namespace StepSharp.Formats;

/// <summary>
/// Re-encodes a GGUF file's weight matrices to another type, like <c>llama-quantize</c>: norms, biases, the
/// MoE router and <c>rope_freqs</c> stay F32; the mixes <c>Q4_K_M</c> / <c>Q4_K_S</c> give some tensors more bits
/// (llama.cpp's rules in simplified form: the attention V and FFN down projections of the first and last eighth of
/// the layers and of every third layer between, and the output head, get Q6_K in Q4_K_M; in Q4_K_S only the first
/// eighth gets Q5_K). Rows whose length is not a multiple of 256 fall back from K-quants to Q5_0/Q8_0 as
/// llama-quantize does. The whole output is built in memory, so this is for models that fit in RAM.
/// </summary>
public static class GgufQuantizer
{
    public static IReadOnlyList<string> Recipes { get; } = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q5_0", "Q4_K", "Q5_K", "Q6_K", "Q4_K_S", "Q4_K_M"];

    public static GgufWriter Quantize(GgufFile input, string recipe)
    {
        string upper = recipe.ToUpperInvariant();
        if (!Recipes.Contains(upper)) throw new ArgumentException($"unknown quantization type '{recipe}' (supported: {string.Join(", ", Recipes)})");
        string arch = input.Metadata.GetString("general.architecture") ?? "";
        int layers = (int)input.Metadata.GetInt64(arch + ".block_count", 0);

        var writer = new GgufWriter(input.Alignment);
        foreach (var (key, value) in input.Metadata)
            if (key != "general.file_type" && key != "general.alignment") writer.Add(key, value);
        writer.Add("general.file_type", (uint)FileType(upper));
        writer.Add("general.quantized_by", "StepSharp");

        foreach (var info in input.Tensors)
        {
            TensorView t = input.GetTensor(info.Name);
            GgmlType target = KeepsF32(info) ? t.Type : Fallback(TargetFor(upper, info.Name, layers), t.Ne0);
            if (target == t.Type)
            {
                writer.AddTensor(info.Name, t.Type, info.Shape, t.Bytes.ToArray());
                continue;
            }
            int ne0 = checked((int)t.Ne0);
            long rowBytes = GgmlTypeInfo.RowBytes(target, ne0);
            var bytes = new byte[checked(rowBytes * t.RowCount)];
            var row = new float[ne0];
            for (long r = 0; r < t.RowCount; r++)
            {
                t.DequantizeRow(r, row);
                Tensors.Quantize.Row(target, row, bytes.AsSpan((int)(r * rowBytes), (int)rowBytes));
            }
            writer.AddTensor(info.Name, target, info.Shape, bytes);
        }
        return writer;
    }

    /// <summary>Vectors, the router and rope factors keep their type (llama-quantize leaves them F32).</summary>
    private static bool KeepsF32(GgufTensorInfo t) =>
        t.Shape.Length < 2 || t.Name.Contains("ffn_gate_inp", StringComparison.Ordinal) || t.Name.Contains("norm", StringComparison.Ordinal)
        || t.Name.StartsWith("rope_freqs", StringComparison.Ordinal) || t.Name.EndsWith(".bias", StringComparison.Ordinal);

    private static GgmlType TargetFor(string recipe, string name, int layers)
    {
        switch (recipe)
        {
            case "Q4_K_M":
                if (name == "output.weight") return GgmlType.Q6_K;
                if (IsMoreBitsTensor(name) && UsesMoreBits(GgufTensorNames.BlockIndex(name), layers)) return GgmlType.Q6_K;
                return GgmlType.Q4_K;
            case "Q4_K_S":
                if (name == "output.weight") return GgmlType.Q6_K;
                if (IsMoreBitsTensor(name) && GgufTensorNames.BlockIndex(name) is int l && l < Math.Max(1, layers / 8)) return GgmlType.Q5_K;
                return GgmlType.Q4_K;
            default:
                return Enum.Parse<GgmlType>(recipe);
        }
    }

    private static bool IsMoreBitsTensor(string name) => name.Contains("attn_v.", StringComparison.Ordinal) || name.Contains("ffn_down", StringComparison.Ordinal);

    // llama.cpp's use_more_bits(i, n): the first and last eighth, and every third layer in between.
    private static bool UsesMoreBits(int? layer, int layers) =>
        layer is int i && layers > 0 && (i < layers / 8 || i >= 7 * layers / 8 || (i - layers / 8) % 3 == 2);

    /// <summary>K-quants need rows of whole 256-element super-blocks; otherwise llama-quantize falls back.</summary>
    private static GgmlType Fallback(GgmlType type, long ne0)
    {
        if (ne0 % GgmlTypeInfo.BlockSize(type) == 0) return type;
        GgmlType fallback = type switch
        {
            GgmlType.Q4_K or GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F16,
        };
        return ne0 % GgmlTypeInfo.BlockSize(fallback) == 0 ? fallback : GgmlType.F16;
    }

    // llama_ftype values written to general.file_type.
    private static int FileType(string recipe) => recipe switch
    {
        "F32" => 0, "F16" => 1, "Q4_0" => 2, "Q8_0" => 7, "Q5_0" => 8, "Q4_K_S" => 14, "Q4_K_M" => 15, "Q4_K" => 15,
        "Q5_K" => 17, "Q6_K" => 18, "BF16" => 32, _ => 0,
    };
}
