using System.CommandLine;
using StepSharp.Inference;

namespace StepSharp.Cli.Commands;

/// <summary><c>stepsharp generate</c>: stream a completion of a prompt, then report tokens/s on stderr.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var prompt = new Option<string>("--prompt", "-p") { Description = "prompt text", DefaultValueFactory = _ => "Once upon a time" };
        var sampler = new SamplingCliOptions(128, "tokens to generate");
        var threads = CommonOptions.Threads();
        var noMmap = CommonOptions.NoMmap();
        var ctx = CommonOptions.Context();
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "keep generating past end-of-generation tokens" };
        var cacheType = CommonOptions.CacheType();
        var draftMtp = new Option<int>("--draft-mtp") { Description = "greedy speculative decoding with the model's MTP heads drafting up to N tokens per step (Step 3.5 only)" };

        var command = new Command("generate", "generate text from a prompt")
        {
            model, prompt, threads, noMmap, ctx, ignoreEos, cacheType, draftMtp,
        };
        sampler.AddTo(command);
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            int n = sampler.ReadMaxTokens(parse, 0);
            var sampling = sampler.ReadSampling(parse);
            var errors = StderrConsole.Instance;
            using var loaded = CommonOptions.Load(parse.GetValue(model), parse.GetValue(threads), parse.GetValue(noMmap));
            Console.Error.WriteLine($"model: {loaded.Description} ({loaded.Model.Architecture}, {loaded.Model.VocabSize} tokens), {loaded.Pool.ThreadCount} threads");
            using var generator = new TextGenerator(loaded, parse.GetValue(ctx), cacheType: CommonOptions.ParseCacheType(parse.GetValue(cacheType)));
            var options = new GenerationOptions { MaxTokens = n, Sampling = sampling, IgnoreEndOfGeneration = parse.GetValue(ignoreEos) };

            string text = parse.GetValue(prompt) ?? "";
            if (parse.GetValue(draftMtp) > 0)
                return SpeculativeGeneration.Run(loaded, text, n, parse.GetValue(draftMtp), sampling, parse.GetValue(ctx),
                    CommonOptions.ParseCacheType(parse.GetValue(cacheType)), parse.GetValue(ignoreEos));
            Console.Out.Write(text);
            var stdout = Console.Out;
            var result = await PrefillProgress.RunAsync(errors, (progress, token) =>
                generator.Generate(text, options, piece => { stdout.Write(piece); stdout.Flush(); }, progress, token), cancellation);
            stdout.WriteLine();
            Console.Error.WriteLine($"prompt: {result.PromptTokens} tokens, {result.PrefillTokensPerSecond:F1} tokens/s | " +
                $"generation: {result.GeneratedTokens} tokens, {result.DecodeTokensPerSecond:F1} tokens/s | finish: {result.FinishReason.ToString().ToLowerInvariant()}");
            return 0;
        }));
        return command;
    }
}
