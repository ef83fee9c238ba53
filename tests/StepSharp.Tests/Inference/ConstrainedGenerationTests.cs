using System.Text.Json;
using StepSharp.Inference;
using StepSharp.Inference.Constraints;
using StepSharp.Inference.Sampling;

namespace StepSharp.Tests.Inference;

/// <summary>Constrained decoding through the real generator and sampler on the demo model (random weights, so only the constraint shapes the text).</summary>
public class ConstrainedGenerationTests
{
    [Theory]
    [InlineData(0f)]
    [InlineData(1f)]
    public void AForcedPrefixIsGeneratedWhateverTheModelPrefers(float temperature)
    {
        using var model = DemoModel.Load(1);
        using var generator = new TextGenerator(model, 256);
        var options = new GenerationOptions
        {
            MaxTokens = 40,
            Sampling = new SamplingOptions { Temperature = temperature, Seed = 3 },
            Constraint = () => new ForcedPrefixConstraint("<tool_call>\n<function=get_weather>"),
        };
        var result = generator.Generate(model.Tokenizer.Encode("Hello"), options, cancellationToken: TestContext.Current.CancellationToken);
        Assert.StartsWith("<tool_call>\n<function=get_weather>", result.Text);
        var plain = generator.Generate(model.Tokenizer.Encode("Hello"), options with { Constraint = null }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(plain.Text.StartsWith("<tool_call>", StringComparison.Ordinal)); // the model alone does not write it
    }

    [Fact]
    public void JsonObjectOutputIsAlwaysAValidPrefixAndParsesWhenFinished()
    {
        using var model = DemoModel.Load(1);
        using var generator = new TextGenerator(model, 512);
        for (ulong seed = 1; seed <= 6; seed++)
        {
            var options = new GenerationOptions
            {
                MaxTokens = 200,
                Sampling = new SamplingOptions { Temperature = 1f, Seed = seed },
                Constraint = () => new JsonObjectConstraint(),
            };
            var result = generator.Generate(model.Tokenizer.Encode("Reply in JSON:"), options, cancellationToken: TestContext.Current.CancellationToken);
            Assert.StartsWith("{", result.Text.TrimStart());
            // An independent check of the prefix: our validator must accept it byte by byte.
            var check = new JsonObjectConstraint();
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(result.Text);
            Assert.True(check.Allows(bytes, false), $"seed {seed}: '{result.Text}' is not a JSON prefix");
            if (result.FinishReason == FinishReason.Stop)
                Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(result.Text).RootElement.ValueKind);
        }
    }
}
