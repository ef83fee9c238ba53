using System.Diagnostics;
using StepSharp.Inference;
using StepSharp.Inference.Sampling;
using StepSharp.Models.Common;
using StepSharp.Models.Step35;
using StepSharp.Tokenization;

namespace StepSharp.Cli.Commands;

/// <summary><c>generate --draft-mtp N</c>: greedy generation verified in batches of MTP drafts, with acceptance statistics.</summary>
internal static class SpeculativeGeneration
{
    public static int Run(LoadedModel loaded, string prompt, int maxTokens, int draft, SamplingOptions sampling, int ctx, KvCacheType cacheType, bool ignoreEos)
    {
        if (loaded.Model is not Step35Model step35 || step35.NextN.Length == 0)
            throw new ArgumentException("--draft-mtp needs a Step 3.5 model with MTP (nextn) layers");
        if (sampling.Temperature > 0)
            throw new ArgumentException("--draft-mtp runs greedy decoding; add --temperature 0");
        int[] tokens = loaded.Tokenizer.Encode(prompt);
        using var decoder = new MtpSpeculativeDecoder(step35, Math.Min(ctx, step35.TrainedContextLength), draft, cacheType);
        var detokenizer = new StreamingDetokenizer(loaded.Tokenizer);
        var stop = ignoreEos ? null : new HashSet<int>(loaded.Tokenizer.EndOfGenerationIds);
        Console.Out.Write(prompt);
        var clock = Stopwatch.StartNew();
        var generated = decoder.GenerateGreedy(tokens, Math.Min(maxTokens, decoder.ContextLength - tokens.Length), endOfGeneration: stop,
            onToken: t => { Console.Out.Write(detokenizer.Push(t)); Console.Out.Flush(); });
        Console.Out.Write(detokenizer.Flush());
        Console.Out.WriteLine();
        double seconds = clock.Elapsed.TotalSeconds;
        Console.Error.WriteLine($"generation: {generated.Count} tokens in {seconds:F2} s ({generated.Count / seconds:F1} tokens/s incl. prompt) | " +
            $"{decoder.Steps} verification passes, drafts accepted {decoder.Accepted}/{decoder.Drafted}" +
            $" ({(decoder.Drafted > 0 ? 100.0 * decoder.Accepted / decoder.Drafted : 0):F0} %), {(decoder.Steps > 0 ? (double)generated.Count / decoder.Steps : 0):F2} tokens per pass");
        return 0;
    }
}
