using StepSharp.Chat.Templates;

namespace StepSharp.Tests.Chat.Templates;

internal static class TemplateTestHelper
{
    public static readonly DateTime FixedNow = new(2026, 11, 23, 0, 0, 0);

    public static string Render(string source, params (string Name, object? Value)[] variables)
    {
        var template = ChatTemplate.Parse(source, "test").WithClock(() => FixedNow);
        return template.Render(variables.ToDictionary(v => v.Name, v => v.Value));
    }
}
