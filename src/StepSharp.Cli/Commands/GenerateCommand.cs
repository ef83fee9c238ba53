using System.CommandLine;
using StepSharp.Inference;
using StepSharp.Inference.Sampling;

namespace StepSharp.Cli.Commands;

/// <summary><c>stepsharp generate</c>: stream a completion of a prompt, then report tokens/s on stderr.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var prompt = new Option<string>("--prompt", "-p") { Description = "prompt text", DefaultValueFactory = _ => "Once upon a time" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "tokens to generate", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature", "--temp") { Description = "sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "keep the k most likely tokens (0 = off)", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "nucleus sampling mass (1 = off)", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "drop tokens below this fraction of the best one's probability (0 = off)", DefaultValueFactory = _ => 0.05f };
        var seed = new Option<ulong?>("--seed", "-s") { Description = "random seed (default: random)" };
        var threads = CommonOptions.Threads();
        var ctx = CommonOptions.Context();
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "keep generating past end-of-generation tokens" };
        var cacheType = CommonOptions.CacheType();

        var command = new Command("generate", "generate text from a prompt")
        {
            model, prompt, maxTokens, temperature, topK, topP, minP, seed, threads, ctx, ignoreEos, cacheType,
        };
        command.SetAction((parse, cancellation) => CliErrors.Guard(async () =>
        {
            int n = parse.GetValue(maxTokens);
            if (n < 0) throw new ArgumentException($"--max-tokens must be 0 or more, got {n}");
            var sampling = new SamplingOptions
            {
                Temperature = parse.GetValue(temperature),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                MinP = parse.GetValue(minP),
                Seed = parse.GetValue(seed),
            };
            sampling.Validate();
            var errors = StderrConsole.Instance;
            using var loaded = CommonOptions.Load(parse.GetValue(model), parse.GetValue(threads));
            Console.Error.WriteLine($"model: {loaded.Description} ({loaded.Model.Architecture}, {loaded.Model.VocabSize} tokens), {loaded.Pool.ThreadCount} threads");
            using var generator = new TextGenerator(loaded, parse.GetValue(ctx), cacheType: CommonOptions.ParseCacheType(parse.GetValue(cacheType)));
            var options = new GenerationOptions { MaxTokens = n, Sampling = sampling, IgnoreEndOfGeneration = parse.GetValue(ignoreEos) };

            string text = parse.GetValue(prompt) ?? "";
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
