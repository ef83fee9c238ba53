namespace StepSharp.Formats;

/// <summary>
/// Names the header field being read, for error messages only. It stores a composite-format template
/// and its arguments and formats them only when an error is thrown: a header holds hundreds of
/// thousands of fields (one per vocabulary token), and formatting each name eagerly would cost more
/// than parsing (spec requirement: opening a 120 GB file stays well under a second).
/// </summary>
internal readonly struct GgufField(string template, string? name = null, long index = 0)
{
    /// <summary>{0} = name, {1} = index.</summary>
    public override string ToString() => string.Format(System.Globalization.CultureInfo.InvariantCulture, template, name, index);

    public static implicit operator GgufField(string fixedText) => new(fixedText.Replace("{", "{{").Replace("}", "}}"));
}
