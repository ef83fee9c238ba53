using System.Globalization;
using System.Text;

namespace StepSharp.Chat.Templates;

/// <summary>
/// Global functions: Jinja's range/namespace/dict and the two transformers adds to chat templates,
/// raise_exception (→ TemplateError) and strftime_now (Python strftime of the current local time).
/// </summary>
internal static class Globals
{
    private static readonly Dictionary<string, object?> Functions = new(StringComparer.Ordinal)
    {
        ["range"] = new BuiltinFunction("range", (_, args) => Range(args)),
        ["namespace"] = new BuiltinFunction("namespace", (_, args) => MakeNamespace(args)),
        ["dict"] = new BuiltinFunction("dict", (_, args) => MakeDict(args)),
        ["raise_exception"] = new BuiltinFunction("raise_exception", (_, args) =>
            throw new TemplateRaiseSignal(PyRepr.Str(args.Get(0, "message", "")))),
        ["strftime_now"] = new BuiltinFunction("strftime_now", (interpreter, args) =>
            Strftime(interpreter.Now(), PyRepr.Str(args.Get(0, "format")))),
    };

    public static bool TryGet(string name, out object? value) => Functions.TryGetValue(name, out value);

    private static List<object?> Range(CallArgs args)
    {
        long start = 0, stop, step = 1;
        var p = args.Positional;
        switch (p.Count)
        {
            case 1: stop = ToLong(p[0]); break;
            case 2: start = ToLong(p[0]); stop = ToLong(p[1]); break;
            case 3: start = ToLong(p[0]); stop = ToLong(p[1]); step = ToLong(p[2]); break;
            default: throw TemplateValueError.Type($"range expected 1 to 3 arguments, got {p.Count}");
        }
        if (step == 0) throw TemplateValueError.Value("range() arg 3 must not be zero");
        var result = new List<object?>();
        // The sandbox caps ranges at MAX_RANGE (100000) items.
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= 100_000) throw new TemplateValueError("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
            result.Add(i);
        }
        return result;
    }

    private static long ToLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw TemplateValueError.Type($"'{PyOps.TypeName(v)}' object cannot be interpreted as an integer"),
    };

    private static TemplateNamespace MakeNamespace(CallArgs args)
    {
        var ns = new TemplateNamespace();
        foreach (object? initial in args.Positional)
        {
            if (initial is not PyDict d) throw TemplateValueError.Type("namespace() positional argument must be a mapping");
            foreach (var kv in d) ns.Attributes[PyRepr.Str(kv.Key)] = kv.Value;
        }
        foreach (var kv in args.Named) ns.Attributes[kv.Key] = kv.Value;
        return ns;
    }

    private static PyDict MakeDict(CallArgs args)
    {
        var d = new PyDict();
        foreach (object? initial in args.Positional)
        {
            if (initial is PyDict source) foreach (var kv in source) d[kv.Key] = kv.Value;
            else foreach (object? pair in ValueAccess.Iterate(initial))
            {
                var kv = ValueAccess.Iterate(pair);
                if (kv.Count != 2) throw TemplateValueError.Value("dictionary update sequence element has wrong length");
                d[kv[0] ?? throw TemplateValueError.Type("None dict key")] = kv[1];
            }
        }
        foreach (var kv in args.Named) d[kv.Key] = kv.Value;
        return d;
    }

    private static readonly string[] MonthNames =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    /// <summary>Python's datetime.strftime in the C locale.</summary>
    public static string Strftime(DateTime t, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            char c = format[++i];
            string month = MonthNames[t.Month - 1], day = DayNames[(int)t.DayOfWeek];
            int hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
            sb.Append(c switch
            {
                'Y' => t.Year.ToString(inv),
                'y' => (t.Year % 100).ToString("00", inv),
                'm' => t.Month.ToString("00", inv),
                'd' => t.Day.ToString("00", inv),
                'e' => t.Day.ToString(inv).PadLeft(2),
                'B' => month,
                'b' or 'h' => month[..3],
                'A' => day,
                'a' => day[..3],
                'H' => t.Hour.ToString("00", inv),
                'I' => hour12.ToString("00", inv),
                'M' => t.Minute.ToString("00", inv),
                'S' => t.Second.ToString("00", inv),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", inv),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => t.DayOfYear.ToString("000", inv),
                'w' => ((int)t.DayOfWeek).ToString(inv),
                'u' => (t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek).ToString(inv),
                'F' => t.ToString("yyyy-MM-dd", inv),
                'D' => t.ToString("MM/dd/yy", inv),
                'T' => t.ToString("HH:mm:ss", inv),
                'R' => t.ToString("HH:mm", inv),
                'c' => $"{day[..3]} {month[..3]} {t.Day,2} {t:HH:mm:ss} {t.Year}",
                'x' => t.ToString("MM/dd/yy", inv),
                'X' => t.ToString("HH:mm:ss", inv),
                'z' or 'Z' => "",
                'n' => "\n",
                't' => "\t",
                '%' => "%",
                _ => "%" + c,
            });
        }
        return sb.ToString();
    }
}
