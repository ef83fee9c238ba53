using System.ComponentModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using StepSharp.Chat;
using StepSharp.Inference;

namespace StepSharp.Tests.Chat;

/// <summary>
/// Acceptance: the chat client under Microsoft.Extensions.AI's FunctionInvokingChatClient runs a whole tool loop over a real
/// model, tokenizer, template and parser; only the generated tokens are scripted.
/// </summary>
public class StepSharpChatClientToolLoopTests
{
    private const string ToolCallTurn =
        "The user asks about the weather; I should call the tool.\n</think>\n" +
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call>";
    private const string AnswerTurn = "The tool says sunny.\n</think>\nIt is sunny in Paris today.";
    private const string ToolResult = "sunny, 21 C";

    // Spec §6.1, written out by hand: the reasoning of the assistant turn after the last user message is kept, the call is an
    // XML block, the result becomes a tool_response turn, and the generation prompt opens the think block.
    private const string ExpectedSecondPromptEnd =
        "<|im_start|>user\nWhat is the weather in Paris?<|im_end|>\n" +
        "<|im_start|>assistant\n<think>\nThe user asks about the weather; I should call the tool.\n</think>\n" +
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>\n</tool_call><|im_end|>\n" +
        "<|im_start|>tool_response\n<tool_response>" + ToolResult + "</tool_response><|im_end|>\n" +
        "<|im_start|>assistant\n<think>\n";

    [Theory]
    [InlineData(ChatTestModels.Demo, false)]
    [InlineData(ChatTestModels.Demo, true)]
    [InlineData(ChatTestModels.TinyWithRealTemplate, false)]
    [InlineData(ChatTestModels.TinyWithRealTemplate, true)]
    public async Task FunctionInvokingClientCallsTheToolAndFeedsTheResultBack(string modelName, bool streaming)
    {
        var (model, formatter) = ChatTestModels.Load(modelName);
        using var _ = model;
        var script = new ScriptedModelOutput(model.Tokenizer, ToolCallTurn, AnswerTurn);
        using var engine = new SerialCompletionEngine(model, 4096, 64, script);
        var calls = new List<string>();
        var weather = AIFunctionFactory.Create(
            ([Description("city name")] string city) => { calls.Add(city); return ToolResult; },
            "get_weather", "Current weather of a city");
        using var client = new FunctionInvokingChatClient(new StepSharpChatClient(engine, formatter));
        var options = new ChatOptions { Tools = [weather] };
        List<ChatMessage> messages = [new(ChatRole.User, "What is the weather in Paris?")];

        ChatResponse response = streaming
            ? await client.GetStreamingResponseAsync(messages, options, TestContext.Current.CancellationToken).ToChatResponseAsync(TestContext.Current.CancellationToken)
            : await client.GetResponseAsync(messages, options, TestContext.Current.CancellationToken);

        Assert.Equal(["Paris"], calls);
        Assert.Equal(2, script.Prompts.Count);
        // The first prompt declares the tool with the schema AIFunctionFactory derived from the delegate.
        string first = script.DecodedPrompt(0);
        Assert.Contains("\"name\": \"get_weather\"", first);
        Assert.Contains("\"city\": {\"description\": \"city name\", \"type\": \"string\"}", first);
        Assert.EndsWith("<|im_start|>user\nWhat is the weather in Paris?<|im_end|>\n<|im_start|>assistant\n<think>\n", first);
        Assert.EndsWith(ExpectedSecondPromptEnd, script.DecodedPrompt(1));

        Assert.Equal("It is sunny in Paris today.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("Paris", ((JsonElement)call.Arguments!["city"]!).GetString());
        var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal(call.CallId, result.CallId);
        var reasoning = response.Messages.Last().Contents.OfType<TextReasoningContent>().Select(r => r.Text);
        Assert.Equal("The tool says sunny.", string.Concat(reasoning));
    }
}
