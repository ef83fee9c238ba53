#pragma warning disable xUnit1051 // requests carry their own timeouts
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using ChatMessage = OpenAI.Chat.ChatMessage;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;

namespace StepSharp.Tests.Server;

/// <summary>The official OpenAI .NET SDK (and Microsoft.Extensions.AI over it) as the client of the real server.</summary>
[Collection(nameof(ServerCollection))]
public class OpenAISdkChatTests(ServerFixture servers)
{
    private static readonly ChatTool WeatherTool = ChatTool.CreateFunctionTool("get_weather", "Current weather of a city",
        BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}"""));

    [Fact]
    public async Task PlainChatReportsUsageAndLengthFinish()
    {
        var chat = servers.Model.OpenAI.GetChatClient("tiny");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Say hi")], new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0 });
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        int[] prompt = await servers.Model.ChatPromptTokensAsync([new System.Text.Json.Nodes.JsonObject { ["role"] = "user", ["content"] = "Say hi" }]);
        Assert.Equal(prompt.Length, completion.Usage.InputTokenCount);
        Assert.Equal(6, completion.Usage.OutputTokenCount);
        Assert.Equal(prompt.Length + 6, completion.Usage.TotalTokenCount);
        Assert.Equal("tiny", completion.Model);
    }

    [Fact]
    public async Task ScriptedChatSeparatesReasoningAndStreamsTheSameContent()
    {
        var chat = servers.Scripted.OpenAI.GetChatClient("scripted");
        ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("Hello")]);
        Assert.Equal(ChatFinishReason.Stop, whole.FinishReason);
        Assert.Equal(ChatScript.Greeting, whole.Content[0].Text); // the reasoning before </think> is not content

        var streamed = new System.Text.StringBuilder();
        ChatFinishReason? reason = null;
        ChatTokenUsage? usage = null;
        int updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hello")]))
        {
            updates++;
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            reason ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(ChatScript.Greeting, streamed.ToString());
        Assert.True(updates > 5, $"only {updates} updates: the answer was not streamed piece by piece");
        Assert.Equal(ChatFinishReason.Stop, reason);
        Assert.NotNull(usage);
        Assert.Equal(whole.Usage.OutputTokenCount, usage.OutputTokenCount);
    }

    [Fact]
    public async Task StopStringsCutTheAnswer()
    {
        var chat = servers.Scripted.OpenAI.GetChatClient("scripted");
        var options = new ChatCompletionOptions();
        options.StopSequences.Add("STOP");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hello")], options);
        Assert.Equal(ChatScript.Greeting[..ChatScript.Greeting.IndexOf("STOP", StringComparison.Ordinal)], completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task AToolCallRoundTrip()
    {
        var chat = servers.Scripted.OpenAI.GetChatClient("scripted");
        var options = new ChatCompletionOptions { Tools = { WeatherTool } };
        List<ChatMessage> messages = [new UserChatMessage("What is the weather in Paris?")];
        ChatCompletion call = await chat.CompleteChatAsync(messages, options);
        Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
        var toolCall = Assert.Single(call.ToolCalls);
        Assert.Equal("get_weather", toolCall.FunctionName);
        Assert.StartsWith("call_", toolCall.Id);
        using (var args = JsonDocument.Parse(toolCall.FunctionArguments))
        {
            Assert.Equal("Paris", args.RootElement.GetProperty("city").GetString());
            Assert.Equal(2, args.RootElement.GetProperty("days").GetInt32()); // typed by the tool's schema
        }

        messages.Add(new AssistantChatMessage(call));
        messages.Add(new ToolChatMessage(toolCall.Id, "sunny and 21 °C"));
        ChatCompletion answer = await chat.CompleteChatAsync(messages, options);
        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        Assert.Equal("It is sunny and 21 °C in Paris.", answer.Content[0].Text);
    }

    [Fact]
    public async Task AStreamedToolCallArrivesAsDeltas()
    {
        var chat = servers.Scripted.OpenAI.GetChatClient("scripted");
        var options = new ChatCompletionOptions { Tools = { WeatherTool } };
        string? name = null, id = null;
        var arguments = new System.Text.StringBuilder();
        ChatFinishReason? reason = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("weather please")], options))
        {
            foreach (var t in update.ToolCallUpdates)
            {
                Assert.Equal(0, t.Index);
                name ??= t.FunctionName;
                id ??= t.ToolCallId;
                arguments.Append(t.FunctionArgumentsUpdate?.ToString());
            }
            reason ??= update.FinishReason;
        }
        Assert.Equal("get_weather", name);
        Assert.NotNull(id);
        Assert.Equal(ChatFinishReason.ToolCalls, reason);
        using var args = JsonDocument.Parse(arguments.ToString());
        Assert.Equal("Paris", args.RootElement.GetProperty("city").GetString());
    }

    [Fact]
    public async Task FunctionInvokingChatClientRunsTheToolThroughMicrosoftExtensionsAI()
    {
        IChatClient client = new ChatClientBuilder(servers.Scripted.OpenAI.GetChatClient("scripted").AsIChatClient())
            .UseFunctionInvocation()
            .Build();
        int calls = 0;
        var tool = AIFunctionFactory.Create((string city, int days) => { calls++; return $"rainy for {days} days in {city}"; }, "get_weather", "Current weather of a city");
        var response = await client.GetResponseAsync("How is the weather in Paris?", new ChatOptions { Tools = [tool] });
        Assert.Equal(1, calls);
        Assert.Contains("rainy for 2 days in Paris", response.Text);
    }

    [Fact]
    public async Task LogprobsListEveryTokenWithRankedAlternatives()
    {
        var chat = servers.Model.OpenAI.GetChatClient("tiny");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 5, Temperature = 0, IncludeLogProbabilities = true, TopLogProbabilityCount = 3 };
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hi")], options);
        Assert.Equal(5, completion.ContentTokenLogProbabilities.Count);
        foreach (var token in completion.ContentTokenLogProbabilities)
        {
            Assert.Equal(3, token.TopLogProbabilities.Count);
            Assert.True(token.LogProbability <= 0);
            for (int i = 1; i < 3; i++) Assert.True(token.TopLogProbabilities[i - 1].LogProbability >= token.TopLogProbabilities[i].LogProbability);
            // Greedy picks the most likely token, so it heads its own alternatives.
            Assert.Equal(token.Token, token.TopLogProbabilities[0].Token);
            Assert.Equal(token.LogProbability, token.TopLogProbabilities[0].LogProbability, 5);
            // The alternatives are a distribution's top: their probabilities cannot sum past 1.
            Assert.True(token.TopLogProbabilities.Sum(t => Math.Exp(t.LogProbability)) <= 1.0001);
        }
    }

    [Fact]
    public async Task SeedsReproduceSampledAnswers()
    {
        var chat = servers.Model.OpenAI.GetChatClient("tiny");
        async Task<string> Run(long seed)
        {
            var (_, json) = await servers.Model.PostAsync("v1/chat/completions", System.Text.Json.Nodes.JsonNode.Parse(
                $$"""{"messages":[{"role":"user","content":"Tell a story"}],"max_tokens":12,"temperature":1.5,"seed":{{seed}}}""")!);
            return json!["choices"]![0]!["message"]!["reasoning_content"]!.GetValue<string>();
        }
        Assert.Equal(await Run(7), await Run(7));
        Assert.NotEqual(await Run(7), await Run(8));
        // The SDK's seed reaches the sampler too: same seed, same usage and finish.
        ChatCompletion a = await chat.CompleteChatAsync([new UserChatMessage("x")], new ChatCompletionOptions { Seed = 3, MaxOutputTokenCount = 4 });
        Assert.Equal(4, a.Usage.OutputTokenCount);
    }
}
