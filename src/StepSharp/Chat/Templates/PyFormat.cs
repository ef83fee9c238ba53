using System.Globalization;
using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>Python printf-style formatting (<c>"%s-%d" % (a, b)</c>, the <c>format</c> filter): the common conversions.</summary>
internal static class PyFormat
{
    public static string Percent(string format, object? args)
    {
        IReadOnlyList<object?> values = args is PyTuple t ? t : [args];
        PyDict? mapping = args as PyDict;
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%') { sb.Append(c); continue; }
            if (++i >= format.Length) throw TemplateValueError.Value("incomplete format");
            object? value;
            if (format[i] == '%') { sb.Append('%'); continue; }
            if (format[i] == '(' && mapping is not null)
            {
                int close = format.IndexOf(')', i);
                if (close < 0) throw TemplateValueError.Value("incomplete format key");
                value = mapping.TryGetValue(format[(i + 1)..close], out var v) ? v : throw new TemplateValueError("KeyError", format[(i + 1)..close]);
                i = close + 1;
            }
            else
            {
                if (next >= values.Count) throw TemplateValueError.Type("not enough arguments for format string");
                value = values[next++];
            }
            int specStart = i;
            while (i < format.Length && "-+ #0123456789.".Contains(format[i])) i++;
            if (i >= format.Length) throw TemplateValueError.Value("incomplete format");
            string spec = format[specStart..i];
            sb.Append(Convert(format[i], spec, value));
        }
        if (mapping is null && next < values.Count) throw TemplateValueError.Type("not all arguments converted during string formatting");
        return sb.ToString();
    }

    private static string Convert(char conversion, string spec, object? value)
    {
        bool leftAlign = spec.Contains('-');
        bool zeroPad = spec.StartsWith('0') || spec.StartsWith("-0", StringComparison.Ordinal);
        string digits = spec.TrimStart('-', '+', ' ', '#', '0');
        int width = 0, precision = -1;
        int dot = digits.IndexOf('.');
        if (dot >= 0)
        {
            if (dot > 0) width = int.Parse(digits[..dot], CultureInfo.InvariantCulture);
            precision = dot + 1 < digits.Length ? int.Parse(digits[(dot + 1)..], CultureInfo.InvariantCulture) : 0;
        }
        else if (digits.Length > 0) width = int.Parse(digits, CultureInfo.InvariantCulture);

        string text = conversion switch
        {
            's' => PyRepr.Str(value),
            'r' => PyRepr.Repr(value),
            'd' or 'i' => ((long)Math.Truncate(PyOps.ToDouble(value))).ToString(CultureInfo.InvariantCulture),
            'f' or 'F' => PyOps.ToDouble(value).ToString("F" + (precision < 0 ? 6 : precision), CultureInfo.InvariantCulture),
            'x' => ((long)PyOps.ToDouble(value)).ToString("x", CultureInfo.InvariantCulture),
            'X' => ((long)PyOps.ToDouble(value)).ToString("X", CultureInfo.InvariantCulture),
            _ => throw TemplateValueError.Value($"unsupported format character '{conversion}'"),
        };
        if (conversion is 's' or 'r' && precision >= 0 && text.Length > precision) text = text[..precision];
        if (text.Length >= width) return text;
        if (leftAlign) return text.PadRight(width);
        return zeroPad && conversion is not ('s' or 'r') ? text.PadLeft(width, '0') : text.PadLeft(width);
    }
}
