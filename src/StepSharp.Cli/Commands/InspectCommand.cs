using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using StepSharp.Formats;
using StepSharp.Models;
using StepSharp.Models.Step35;
using StepSharp.Tensors;

namespace StepSharp.Cli.Commands;

/// <summary>
/// <c>stepsharp inspect</c>: what a GGUF file holds (metadata, tensors, parameter count) and what running it costs
/// (weight bytes, KV cache per token and at a context length). With <c>--preset</c> it does the same arithmetic
/// for a model shape without a file, e.g. the real Step 3.5 Flash.
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model", "-m") { Description = "GGUF file to inspect" };
        var preset = new Option<string?>("--preset") { Description = "inspect a model shape instead of a file: demo, tiny, mini, full (Step 3.5 Flash), full-N" };
        var ctx = new Option<int?>("--ctx", "-c") { Description = "context length for the KV-cache figures (default: the model's trained context)" };
        var batch = new Option<int>("--batch") { Description = "tokens per forward step (sliding-window rings keep window + batch − 1 rows)", DefaultValueFactory = _ => 64 };
        var allMetadata = new Option<bool>("--all") { Description = "show whole arrays and every tensor" };
        var command = new Command("inspect", "show a model's architecture, metadata, tensors and memory needs") { model, preset, ctx, batch, allMetadata };
        command.SetAction((parse, _) => CliErrors.Guard(() =>
        {
            var console = StdoutConsole.Create();
            string? path = parse.GetValue(model), presetName = parse.GetValue(preset);
            if ((path is null) == (presetName is null)) throw new ArgumentException("give exactly one of --model PATH and --preset NAME");
            int batchTokens = parse.GetValue(batch);
            if (presetName is not null)
            {
                var shape = Step35ModelShape.Preset(presetName);
                var config = Step35Config.FromShape(shape);
                console.MarkupLine($"[bold]{shape.Name}[/] (arch step35, from the preset; no file)");
                console.MarkupLine($"active parameters per token: {shape.ActiveParameters / 1e9:F2} B (attention, dense FFNs, {shape.ExpertsUsed} routed + shared experts, LM head)");
                PrintKv(console, config, parse.GetValue(ctx) ?? shape.ContextLength, batchTokens);
                return Task.FromResult(0);
            }
            using var file = GgufFile.Open(path!);
            PrintFile(console, file, parse.GetValue(allMetadata));
            if (file.Metadata.GetString("general.architecture") == Step35Config.Architecture)
            {
                var config = Step35Config.FromGguf(file.Metadata, file.Path);
                PrintKv(console, config, parse.GetValue(ctx) ?? config.ContextLength, batchTokens);
            }
            return Task.FromResult(0);
        }));
        return command;
    }

    private static void PrintFile(IAnsiConsole console, GgufFile file, bool all)
    {
        var md = file.Metadata;
        console.MarkupLine($"[bold]{Markup.Escape(file.Path)}[/]: GGUF v{file.Version}, {file.FileLength:N0} bytes, alignment {file.Alignment}, " +
            $"architecture [bold]{Markup.Escape(md.GetString("general.architecture") ?? "?")}[/]" +
            (ModelLoader.SupportedArchitectures.Contains(md.GetString("general.architecture") ?? "") ? "" : " [yellow](not supported for inference)[/]"));

        var meta = new Table().AddColumn("key").AddColumn("type").AddColumn("value");
        foreach (var (key, value) in md.OrderBy(p => p.Key, StringComparer.Ordinal))
            meta.AddRow(Markup.Escape(key), Markup.Escape(value.Type == GgufValueType.Array ? $"{value.ElementType}[]" : value.Type.ToString()), Markup.Escape(Describe(value, all)));
        console.Write(meta);

        var byType = new SortedDictionary<string, (int Count, long Params, long Bytes)>();
        long totalParams = 0, totalBytes = 0;
        var tensors = new Table().AddColumn("tensor").AddColumn("type").AddColumn("shape (ne0 first)").AddColumn(new TableColumn("bytes").RightAligned());
        int shown = 0;
        foreach (var t in file.Tensors)
        {
            long n = 1;
            foreach (long d in t.Shape) n *= d;
            totalParams += n;
            totalBytes += t.ByteLength;
            var e = byType.GetValueOrDefault(t.Type.ToString());
            byType[t.Type.ToString()] = (e.Count + 1, e.Params + n, e.Bytes + t.ByteLength);
            if (all || shown++ < 40) tensors.AddRow(Markup.Escape(t.Name), t.Type.ToString(), string.Join(" × ", t.Shape), t.ByteLength.ToString("N0", CultureInfo.InvariantCulture));
        }
        if (!all && file.Tensors.Count > 40) tensors.AddRow(Markup.Escape($"… {file.Tensors.Count - 40} more (--all shows them)"), "", "", "");
        console.Write(tensors);
        var types = new Table().AddColumn("type").AddColumn(new TableColumn("tensors").RightAligned()).AddColumn(new TableColumn("parameters").RightAligned()).AddColumn(new TableColumn("bytes").RightAligned());
        foreach (var (type, (count, p, b)) in byType) types.AddRow(type, count.ToString(CultureInfo.InvariantCulture), p.ToString("N0", CultureInfo.InvariantCulture), b.ToString("N0", CultureInfo.InvariantCulture));
        console.Write(types);
        console.MarkupLine($"parameters: {totalParams:N0} ({totalParams / 1e9:F3} B); weights: {totalBytes / 1048576.0:F1} MiB, memory-mapped (read from the page cache, not copied)");
    }

    private static void PrintKv(IAnsiConsole console, Step35Config config, int ctx, int batch)
    {
        var f32 = config.KvFootprint(ctx, batch, StepSharp.Models.Common.KvCacheType.F32);
        var f16 = config.KvFootprint(ctx, batch, StepSharp.Models.Common.KvCacheType.F16);
        var q8 = config.KvFootprint(ctx, batch, StepSharp.Models.Common.KvCacheType.Q8_0);
        int full = 0, sliding = 0;
        for (int l = 0; l < config.TrunkLayers; l++) { if (config.IsSliding[l]) sliding++; else full++; }
        console.MarkupLine($"KV cache, trunk ({full} full-attention layers grow with the context; {sliding} sliding layers keep window {config.SlidingWindow} + batch {batch} − 1 rows):");
        var table = new Table().AddColumn("cache type").AddColumn(new TableColumn("per token (full layers)").RightAligned())
            .AddColumn(new TableColumn("sliding rings (fixed)").RightAligned()).AddColumn(new TableColumn($"total at {ctx:N0} tokens").RightAligned());
        table.AddRow("F32", Bytes(f32.BytesPerPosition), Bytes(f32.SlidingBytes), Bytes(f32.TotalBytes));
        table.AddRow("F16 (default)", Bytes(f16.BytesPerPosition), Bytes(f16.SlidingBytes), Bytes(f16.TotalBytes));
        table.AddRow("Q8_0", Bytes(q8.BytesPerPosition), Bytes(q8.SlidingBytes), Bytes(q8.TotalBytes));
        console.Write(table);
    }

    private static string Bytes(long b) => b >= 1L << 30 ? $"{b / (double)(1L << 30):F2} GiB" : b >= 1 << 20 ? $"{b / 1048576.0:F2} MiB" : $"{b / 1024.0:F1} KiB";

    private static string Describe(GgufValue value, bool all)
    {
        if (value.Type != GgufValueType.Array) return Convert.ToString(value.Value, CultureInfo.InvariantCulture) ?? "";
        var items = (System.Collections.IList)value.Value;
        int n = all ? items.Count : Math.Min(items.Count, 8);
        var parts = new List<string>(n);
        for (int i = 0; i < n; i++) parts.Add(items[i] is GgufValue nested ? Describe(nested, all) : Convert.ToString(items[i], CultureInfo.InvariantCulture) ?? "");
        return $"[{string.Join(", ", parts)}{(items.Count > n ? $", … ({items.Count} items)" : "")}]";
    }
}
