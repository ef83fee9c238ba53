using StepSharp.Formats;
using StepSharp.Tests.Support;

namespace StepSharp.Tests.Formats;

/// <summary>
/// Our quantizer against llama-quantize's output for the step35-tiny model: the same type for every tensor
/// (the Q4_K_M mix rules and the fallbacks for 128-wide rows) and the same bytes (the block quantizers are exact).
/// </summary>
public class GgufQuantizerTests
{
    [Theory]
    [InlineData("Q8_0", "step35-tiny-a-q8_0.gguf")]
    [InlineData("Q4_K_M", "step35-tiny-a-q4_k_m.gguf")]
    public void QuantizingTheF32ModelReproducesLlamaQuantize(string recipe, string referenceFile)
    {
        using var f32 = GgufFile.Open(TestData.Path("step35-tiny", "step35-tiny-a-f32.gguf"));
        using var reference = GgufFile.Open(TestData.Path("step35-tiny", referenceFile));
        using var ours = GgufFile.FromBytes(GgufQuantizer.Quantize(f32, recipe).ToArray(), $"ours-{recipe}");
        Assert.Equal(reference.Tensors.Count, ours.Tensors.Count);
        int differentBytes = 0;
        foreach (var expected in reference.Tensors)
        {
            var actual = ours.GetTensor(expected.Name);
            Assert.True(expected.Type == actual.Type, $"{expected.Name}: {actual.Type}, llama-quantize chose {expected.Type}");
            Assert.Equal(expected.Shape, actual.Shape);
            if (!reference.GetTensor(expected.Name).Bytes.SequenceEqual(actual.Bytes)) differentBytes++;
        }
        Assert.True(differentBytes == 0, $"{differentBytes} tensors differ in their bytes from llama-quantize's");
        Assert.Equal(recipe == "Q8_0" ? 7 : 15, ours.Metadata.GetInt64("general.file_type", -1));
    }

    [Fact]
    public void UnknownRecipeIsNamed()
    {
        using var f32 = GgufFile.FromBytes(StepSharp.Models.Step35.Step35RandomModel.Build(StepSharp.Models.Step35.Step35ModelShape.Tiny, 1).ToArray(), "tiny");
        var e = Assert.Throws<ArgumentException>(() => GgufQuantizer.Quantize(f32, "Q3_XXL"));
        Assert.Contains("Q3_XXL", e.Message);
    }
}
