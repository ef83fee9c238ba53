using System.CommandLine;
using StepSharp.Inference.Sampling;

namespace StepSharp.Cli;

/// <summary>The sampling options shared by <c>generate</c> and <c>chat</c> (llama.cpp's defaults).</summary>
internal sealed class SamplingCliOptions
{
    public Option<int> MaxTokens { get; }
    public Option<float> Temperature { get; } = new("--temperature", "--temp") { Description = "sampling temperature; 0 = greedy", DefaultValueFactory = _ => 0.8f };
    public Option<int> TopK { get; } = new("--top-k") { Description = "keep the k most likely tokens (0 = off)", DefaultValueFactory = _ => 40 };
    public Option<float> TopP { get; } = new("--top-p") { Description = "nucleus sampling mass (1 = off)", DefaultValueFactory = _ => 0.95f };
    public Option<float> MinP { get; } = new("--min-p") { Description = "drop tokens below this fraction of the best one's probability (0 = off)", DefaultValueFactory = _ => 0.05f };
    public Option<ulong?> Seed { get; } = new("--seed", "-s") { Description = "random seed (default: random)" };

    public SamplingCliOptions(int defaultMaxTokens, string maxTokensDescription)
        => MaxTokens = new("--max-tokens", "-n") { Description = maxTokensDescription, DefaultValueFactory = _ => defaultMaxTokens };

    public void AddTo(Command command)
    {
        command.Options.Add(MaxTokens);
        command.Options.Add(Temperature);
        command.Options.Add(TopK);
        command.Options.Add(TopP);
        command.Options.Add(MinP);
        command.Options.Add(Seed);
    }

    public int ReadMaxTokens(ParseResult parse, int minimum)
    {
        int n = parse.GetValue(MaxTokens);
        if (n < minimum) throw new ArgumentException($"--max-tokens must be {minimum} or more, got {n}");
        return n;
    }

    public SamplingOptions ReadSampling(ParseResult parse)
    {
        var sampling = new SamplingOptions
        {
            Temperature = parse.GetValue(Temperature),
            TopK = parse.GetValue(TopK),
            TopP = parse.GetValue(TopP),
            MinP = parse.GetValue(MinP),
            Seed = parse.GetValue(Seed),
        };
        sampling.Validate();
        return sampling;
    }
}
