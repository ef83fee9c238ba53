using System.CommandLine;
using StepSharp.Models;
using System.Text.Json;

namespace StepSharp.Cli.Commands;

/// <summary>
/// <c>stepsharp logits</c>: the full logits row of every position of a token sequence, as JSON
/// <c>{"tokens":[...],"logits":[[...],...]}</c>. Conformance tools depend on this exact format.
/// </summary>
internal static class LogitsCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokens = new Option<string>("--tokens") { Description = "comma-separated token ids, e.g. 1,2,3", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "JSON file to write", Required = true };
        var mode = new Option<string>("--mode") { Description = "batch: the whole sequence in one prefill; seq: one token at a time", DefaultValueFactory = _ => "batch" };
        mode.AcceptOnlyFromAmong("batch", "seq");
        var threads = CommonOptions.Threads();
        var noMmap = CommonOptions.NoMmap();
        var dump = new Option<string?>("--dump") { Description = "also write every named intermediate (llama.cpp names, e.g. attn_norm-3) to this JSON file as {name: {ne, data}}" };

        var command = new Command("logits", "write the logits of every position of a token sequence to JSON") { model, tokens, output, mode, threads, noMmap, dump };
        command.SetAction((parse, cancellation) => CliErrors.Guard(() =>
        {
            int[] ids = CommaSeparatedInts.Parse(parse.GetValue(tokens)!, "--tokens", "a token id");
            using var loaded = CommonOptions.Load(parse.GetValue(model), parse.GetValue(threads), parse.GetValue(noMmap));
            var m = loaded.Model;
            int V = m.VocabSize;
            var logits = new float[ids.Length * V];
            bool batch = parse.GetValue(mode) == "batch";
            var sink = parse.GetValue(dump) is null ? null : new ActivationDump();
            using (var state = m.CreateState(ids.Length, batch ? ids.Length : 1))
            {
                state.Activations = sink;
                if (batch) m.Forward(state, ids, logits, allPositions: true);
                else for (int t = 0; t < ids.Length; t++) m.Forward(state, ids.AsSpan(t, 1), logits.AsSpan(t * V, V));
            }
            if (sink is not null)
            {
                using var dumpStream = File.Create(parse.GetValue(dump)!);
                sink.WriteJson(dumpStream);
                Console.Error.WriteLine($"wrote {sink.Count} intermediates to {parse.GetValue(dump)}{(batch ? "" : " (seq mode: each holds the last token's step)")}");
            }
            using (var stream = File.Create(parse.GetValue(output)!))
            using (var json = new Utf8JsonWriter(stream))
            {
                json.WriteStartObject();
                json.WriteStartArray("tokens");
                foreach (int id in ids) json.WriteNumberValue(id);
                json.WriteEndArray();
                json.WriteStartArray("logits");
                for (int t = 0; t < ids.Length; t++)
                {
                    json.WriteStartArray();
                    for (int i = 0; i < V; i++) json.WriteNumberValue(logits[t * V + i]); // shortest round-trip form
                    json.WriteEndArray();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            Console.Error.WriteLine($"wrote {ids.Length}×{V} logits ({parse.GetValue(mode)}) to {parse.GetValue(output)}");
            return Task.FromResult(0);
        }));
        return command;
    }
}
