namespace StepSharp.Inference.Constraints;

/// <summary>
/// The output must be one JSON object (<c>response_format: {"type": "json_object"}</c>), optionally preceded by
/// whitespace; it is complete when the object closes. A byte-level validator of JSON prefixes: a value type, so
/// checking a candidate token is a copy and a scan of its bytes. Nesting up to 64 levels (a bit stack).
/// Numbers follow JSON's grammar; strings take any UTF-8 above 0x1F. Runs of
/// whitespace outside strings are capped (<see cref="MaxWhitespaceRun"/>), so a model cannot pad forever.
/// </summary>
public sealed class JsonObjectConstraint : IOutputConstraint
{
    private JsonPrefix _state;

    /// <summary>Longest run of whitespace allowed between JSON tokens.</summary>
    public const int MaxWhitespaceRun = 4;

    public bool IsComplete => _state.Done;

    public bool Allows(ReadOnlySpan<byte> tokenBytes, bool endsGeneration)
    {
        if (endsGeneration) return _state.Done;
        var probe = _state;
        foreach (byte b in tokenBytes)
            if (!probe.Push(b)) return false;
        return tokenBytes.Length > 0;
    }

    public void Accept(ReadOnlySpan<byte> tokenBytes)
    {
        foreach (byte b in tokenBytes)
            if (!_state.Push(b)) throw new InvalidOperationException("the token breaks the JSON object");
    }

    private enum State : byte { Start, ObjectOpen, KeyNext, Key, KeyEscape, AfterKey, Value, String, StringEscape, Hex, Literal, AfterValue, ArrayOpen, Done,
        NumberSign, NumberZero, NumberInt, NumberDot, NumberFraction, NumberExponent, NumberExponentSign, NumberExponentDigits }

    private struct JsonPrefix
    {
        private State _state;
        private ulong _stack;      // bit d: 1 = object, 0 = array, for nesting depth d
        private int _depth;
        private byte _literal;     // 0 true, 1 false, 2 null
        private byte _position;    // bytes of the literal / hex escape matched so far
        private byte _whitespace;  // length of the current whitespace run outside strings

        private static readonly byte[][] Literals = ["true"u8.ToArray(), "false"u8.ToArray(), "null"u8.ToArray()];

        public readonly bool Done => _state == State.Done;

        public bool Push(byte b)
        {
            bool ws = b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';
            bool inString = _state is State.Key or State.KeyEscape or State.String or State.StringEscape or State.Hex;
            if (!inString)
            {
                if (ws && ++_whitespace > MaxWhitespaceRun) return false;
                if (!ws) _whitespace = 0;
            }
            switch (_state)
            {
                case State.Start:
                    if (ws) return true;
                    if (b != '{') return false;
                    return Open(true);
                case State.ObjectOpen:
                    if (ws) return true;
                    if (b == '"') { _state = State.Key; return true; }
                    return b == '}' && Close();
                case State.KeyNext:
                    if (ws) return true;
                    if (b != '"') return false;
                    _state = State.Key;
                    return true;
                case State.Key:
                    if (b == '"') { _state = State.AfterKey; return true; }
                    if (b == '\\') { _state = State.KeyEscape; return true; }
                    return b >= 0x20;
                case State.KeyEscape:
                case State.StringEscape:
                    bool key = _state == State.KeyEscape;
                    if (b == 'u') { _state = State.Hex; _position = (byte)(key ? 0x80 : 0); return true; }
                    if (b is (byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t')
                    {
                        _state = key ? State.Key : State.String;
                        return true;
                    }
                    return false;
                case State.Hex:
                    if (!char.IsAsciiHexDigit((char)b)) return false;
                    _position++;
                    if ((_position & 0x7F) == 4) _state = (_position & 0x80) != 0 ? State.Key : State.String;
                    return true;
                case State.AfterKey:
                    if (ws) return true;
                    if (b != ':') return false;
                    _state = State.Value;
                    return true;
                case State.Value:
                    if (ws) return true;
                    return StartValue(b);
                case State.ArrayOpen:
                    if (ws) return true;
                    if (b == ']') return Close();
                    return StartValue(b);
                case State.String:
                    if (b == '"') { _state = State.AfterValue; return true; }
                    if (b == '\\') { _state = State.StringEscape; return true; }
                    return b >= 0x20;
                case State.NumberSign:
                    if (b == '0') { _state = State.NumberZero; return true; }
                    if (IsDigit(b)) { _state = State.NumberInt; return true; }
                    return false;
                case State.NumberInt when IsDigit(b):
                case State.NumberFraction when IsDigit(b):
                case State.NumberExponentDigits when IsDigit(b):
                    return true;
                case State.NumberZero or State.NumberInt when b == '.':
                    _state = State.NumberDot;
                    return true;
                case State.NumberZero or State.NumberInt or State.NumberFraction when b is (byte)'e' or (byte)'E':
                    _state = State.NumberExponent;
                    return true;
                case State.NumberDot:
                    if (!IsDigit(b)) return false;
                    _state = State.NumberFraction;
                    return true;
                case State.NumberExponent:
                    if (b is (byte)'+' or (byte)'-') { _state = State.NumberExponentSign; return true; }
                    if (!IsDigit(b)) return false;
                    _state = State.NumberExponentDigits;
                    return true;
                case State.NumberExponentSign:
                    if (!IsDigit(b)) return false;
                    _state = State.NumberExponentDigits;
                    return true;
                case State.NumberZero or State.NumberInt or State.NumberFraction or State.NumberExponentDigits:
                    // A complete number ends at the next structural character or whitespace.
                    _state = State.AfterValue;
                    return Push(b);
                case State.Literal:
                    if (Literals[_literal][_position] != b) return false;
                    if (++_position == Literals[_literal].Length) _state = State.AfterValue;
                    return true;
                case State.AfterValue:
                    if (ws) return true;
                    bool inObject = (_stack >> (_depth - 1) & 1) == 1;
                    if (b == ',') { _state = inObject ? State.KeyNext : State.Value; return true; }
                    if (b == '}') return inObject && Close();
                    if (b == ']') return !inObject && Close();
                    return false;
                default:
                    return false; // Done: nothing may follow the object
            }
        }

        private bool StartValue(byte b)
        {
            switch (b)
            {
                case (byte)'"': _state = State.String; return true;
                case (byte)'{': return Open(true);
                case (byte)'[': return Open(false);
                case (byte)'-': _state = State.NumberSign; return true;
                case (byte)'0': _state = State.NumberZero; return true;
                case >= (byte)'1' and <= (byte)'9': _state = State.NumberInt; return true;
                case (byte)'t': _literal = 0; break;
                case (byte)'f': _literal = 1; break;
                case (byte)'n': _literal = 2; break;
                default: return false;
            }
            _state = State.Literal;
            _position = 1;
            return true;
        }

        private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

        private bool Open(bool isObject)
        {
            if (_depth == 64) return false;
            if (isObject) _stack |= 1UL << _depth; else _stack &= ~(1UL << _depth);
            _depth++;
            _state = isObject ? State.ObjectOpen : State.ArrayOpen;
            return true;
        }

        private bool Close()
        {
            _depth--;
            _state = _depth == 0 ? State.Done : State.AfterValue;
            return true;
        }
    }
}
