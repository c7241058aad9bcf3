using System.Globalization;
using System.Text;
using CsCheck;

namespace Allocation.E2ETests.Support;

/// <summary>What a field of a write or a message holds: an identifier, a quantity or an eta.</summary>
public enum FieldKind
{
    Identifier,
    Quantity,
    Eta,
}

/// <summary>
/// A field of a JSON object the service reads: its name, what it holds and a value it accepts.
/// <paramref name="MinQty"/> is the smallest quantity it takes; <paramref name="AnyOtherValueRefused"/> is for a
/// field whose every other value is refused, such as a message's batch reference when only that batch exists.
/// </summary>
public sealed record FuzzedField(string Name, FieldKind Kind, string ValidJson, int MinQty = 0, bool AnyOtherValueRefused = false);

/// <summary>
/// A generated body: its bytes, whether the contract requires it to be refused (when false it may be either:
/// an extra key, an odd but valid identifier) and what was done to a valid body to get it.
/// </summary>
public sealed record FuzzedBody(byte[] Bytes, bool MustRefuse, string Changes)
{
    /// <summary>The bytes as readable text, every byte that is not printable ASCII escaped, cut short when long.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var b in Bytes.Take(400))
        {
            text.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        }

        return $"{(MustRefuse ? "must be refused" : "may be accepted")} [{Changes}] {text}{(Bytes.Length > 400 ? $"… ({Bytes.Length} bytes)" : "")}";
    }
}

/// <summary>
/// Bodies for fuzzing the service's JSON input: a valid object broken in the ways a client or an upstream system
/// breaks one. Each field's value may become one of the wrong JSON type, a number that is huge, negative,
/// fractional or past the range of int, a long string, odd Unicode (unpaired surrogates, decomposed accents,
/// zero-width and blank characters, emoji), control characters or deep nesting; keys go missing, come twice
/// or are joined by extra ones; and the bytes may be cut short, wrapped, prefixed or made not UTF-8. Every case
/// knows whether the contract must refuse it, so a property can check that it was.
/// </summary>
public static class FuzzedJson
{
    /// <param name="Refused">The field may not hold it.</param>
    /// <param name="Unreadable">Nested too deep to be read at all: refused wherever it is.</param>
    private readonly record struct Value(string Json, bool Refused, string Label, bool Unreadable = false);

    private sealed record Member(string Name, Value Value);

    private delegate (byte[] Bytes, bool Refused, string Label) BodyChange(byte[] bytes);

    /// <summary>Bodies for an object with <paramref name="fields"/>, some refused and some acceptable.</summary>
    /// <param name="repeatedFieldRefused">
    /// Whether a field given twice is refused (HTTP), or its last occurrence is the one read (Redis messages).
    /// </param>
    public static Gen<FuzzedBody> Bodies(bool repeatedFieldRefused, params FuzzedField[] fields)
    {
        var memberChange = Gen.Frequency(
            (5, ReplaceValue(fields)),
            (2, RemoveField(fields)),
            (2, AddExtraKey()),
            (2, DuplicateKey(fields)));
        var bodyChange = Gen.Frequency(
            (6, Gen.Const((BodyChange?)null)),
            (2, Truncate()),
            (2, BreakUtf8()),
            (1, Wrap()),
            (1, Replace()));

        return Gen.Select(memberChange.Array[1, 3], bodyChange, (changes, change) =>
        {
            var members = fields.Select(field => new Member(field.Name, new Value(field.ValidJson, false, "valid"))).ToList();
            var labels = changes.Select(apply => apply(members)).ToList();

            // Judged on the members as they ended up, since a later change may undo an earlier one: of two equal
            // keys the last is the one read, and extra keys are ignored unless they cannot be read at all.
            var refused = members.Exists(member => member.Value.Unreadable)
                || fields.Any(field => members.FindLast(member => member.Name == field.Name) is not { Value.Refused: false })
                || repeatedFieldRefused && fields.Any(field => members.Count(member => member.Name == field.Name) > 1)
                || members.Exists(member => member.Value.Refused && !Array.Exists(fields, field => field.Name == member.Name));
            var bytes = Encoding.UTF8.GetBytes("{" + string.Join(", ", members.Select(member => $"{Quote(member.Name)}: {member.Value.Json}")) + "}");
            if (change is not null)
            {
                var (changed, bodyRefused, label) = change(bytes);
                bytes = changed;
                refused |= bodyRefused;
                labels.Add(label);
            }

            return new FuzzedBody(bytes, refused, string.Join("; ", labels));
        });
    }

    /// <summary>Only bodies the contract must refuse.</summary>
    public static Gen<FuzzedBody> RefusedBodies(bool repeatedFieldRefused, params FuzzedField[] fields) =>
        Bodies(repeatedFieldRefused, fields).Where(body => body.MustRefuse);

    /// <summary>
    /// A JSON string as the service might receive it: what JSON requires escaped is, the rest is sent raw, unless
    /// <paramref name="escapeNonAscii"/>. An unpaired surrogate is always escaped, as JSON allows: UTF-8 cannot carry one.
    /// </summary>
    public static string Quote(string value, bool escapeNonAscii = false)
    {
        var json = new StringBuilder("\"");
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var paired = char.IsHighSurrogate(c) ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                : char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(value[i - 1]);
            json.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' => $"\\u{(int)c:X4}",
                _ when char.IsSurrogate(c) && !paired => $"\\u{(int)c:X4}",
                _ when c > '\x7E' && escapeNonAscii => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }

        return json.Append('"').ToString();
    }

    private static Gen<Func<List<Member>, string>> ReplaceValue(FuzzedField[] fields) =>
        Gen.Int[0, fields.Length - 1].SelectMany(index => ValueFor(fields[index]).Select<Value, Func<List<Member>, string>>(value => members =>
        {
            var field = fields[index];
            var at = members.FindLastIndex(member => member.Name == field.Name);
            if (at < 0)
            {
                members.Add(new Member(field.Name, value));
            }
            else
            {
                members[at] = new Member(field.Name, value);
            }

            return $"{field.Name} = {value.Label}";
        }));

    private static Gen<Func<List<Member>, string>> RemoveField(FuzzedField[] fields) =>
        Gen.Int[0, fields.Length - 1].Select<int, Func<List<Member>, string>>(index => members =>
        {
            members.RemoveAll(member => member.Name == fields[index].Name);
            return $"{fields[index].Name} removed";
        });

    // The last of two equal keys is the one read: refused when it is.
    private static Gen<Func<List<Member>, string>> DuplicateKey(FuzzedField[] fields) =>
        Gen.Int[0, fields.Length - 1].SelectMany(index => ValueFor(fields[index]).Select<Value, Func<List<Member>, string>>(value => members =>
        {
            members.Add(new Member(fields[index].Name, value));
            return $"{fields[index].Name} again = {value.Label}";
        }));

    private static Gen<Func<List<Member>, string>> AddExtraKey() =>
        Gen.Select(OneOf("priority", "", "QTY", "Ref", "\u00E9t\u00E0", "\uD83C\uDF89", "a\u0000b", "batchref\u200B"), AnyValue(), (name, value) =>
            (Func<List<Member>, string>)(members =>
            {
                members.Insert(Math.Min(1, members.Count), new Member(name, value));
                return $"extra key {Quote(name, escapeNonAscii: true)} = {value.Label}";
            }));

    private static Gen<Value> ValueFor(FuzzedField field)
    {
        var values = field.Kind switch
        {
            FieldKind.Identifier => Gen.Frequency((3, Identifiers()), (2, WrongTypeFor(field.Kind))),
            FieldKind.Quantity => Gen.Frequency((3, Quantities(field.MinQty)), (2, WrongTypeFor(field.Kind))),
            _ => Gen.Frequency((3, Etas()), (2, WrongTypeFor(field.Kind))),
        };
        return field.AnyOtherValueRefused ? values.Select(value => value with { Refused = true }) : values;
    }

    // Any value of another JSON type than the field's, deep nesting included; null too, except for an eta.
    private static Gen<Value> WrongTypeFor(FieldKind kind) =>
        Gen.OneOf(
            Gen.OneOf(
                new Value("true", true, "true"),
                new Value("false", true, "false"),
                new Value("[]", true, "[]"),
                new Value("{}", true, "{}"),
                new Value("[1, \"2\"]", true, "an array"),
                new Value("{\"value\": 3}", true, "an object")),
            NestingDepths().Select(depth => new Value(Nested(depth), true, $"nested {depth} deep", Unreadable: depth > 63)),
            kind == FieldKind.Eta ? Gen.Const(new Value("42", true, "42")) : Gen.Const(new Value("null", true, "null")),
            kind == FieldKind.Identifier
                ? Gen.OneOf(new Value("42", true, "42"), new Value("-1.5e3", true, "-1.5e3"))
                : Identifiers().Select(value => value with { Refused = true, Label = $"the string {value.Label}" }));

    // Whatever an extra key might hold: ignored, unless nested too deep to be read at all.
    private static Gen<Value> AnyValue() =>
        Gen.OneOf(
            Gen.OneOf(new Value("null", false, "null"), new Value("[1, {\"x\": null}]", false, "an array"), new Value("\"\\uD800\"", false, "an unpaired surrogate")),
            NestingDepths().Select(depth => new Value(Nested(depth), false, $"nested {depth} deep", Unreadable: depth > 63)),
            Gen.Int[1, 20_000].Select(length => new Value(Quote(new string('x', length)), false, $"{length} characters")));

    // Readers give up past 64 levels (the object itself is one); depths near that line are left out, so that each case knows its answer.
    private static Gen<int> NestingDepths() => Gen.Frequency((1, Gen.Int[1, 40]), (1, Gen.Int[70, 5000]));

    private static Gen<Value> Quantities(int min) =>
        Gen.OneOf(
            Gen.Int[-3, 12].Select(qty => Integer(qty, min)),
            Gen.OneOf(int.MaxValue, int.MinValue, int.MaxValue - 1).Select(qty => Integer(qty, min)),
            Gen.OneOf(
                new Value("2147483648", true, "int.MaxValue + 1"),
                new Value("-2147483649", true, "int.MinValue - 1"),
                new Value("99999999999999999999999", true, "a 23-digit number"),
                new Value("1e400", true, "1e400"),
                new Value("1.5", true, "1.5"),
                new Value("3.0", true, "3.0"),
                new Value("1e2", true, "1e2"),
                new Value("-0.0", true, "-0.0"),
                new Value("0.0000001", true, "0.0000001"),
                new Value("\"3\"", true, "the string \"3\"")),
            Gen.Const(new Value("-0", min > 0, "-0")));

    private static Value Integer(int qty, int min) => new(qty.ToString(CultureInfo.InvariantCulture), qty < min, qty.ToString(CultureInfo.InvariantCulture));

    private static Gen<Value> Etas() =>
        Gen.OneOf(
            Gen.OneOf(
                new Value("null", false, "null"),
                new Value("\"2011-01-02\"", false, "2011-01-02"),
                new Value("\"0001-01-01\"", false, "0001-01-01"),
                new Value("\"9999-12-31\"", false, "9999-12-31"),
                new Value("\"2011-13-01\"", true, "month 13"),
                new Value("\"2011-02-30\"", true, "30 February"),
                new Value("\"2011-1-2\"", true, "2011-1-2"),
                new Value("\"tomorrow\"", true, "tomorrow"),
                new Value("\"\"", true, "an empty string"),
                new Value("20110102", true, "20110102")),
            Identifiers().Where(value => value.Refused).Select(value => value with { Label = $"the string {value.Label}" }));

    /// <summary>Identifiers that must be refused (contract rule 8), and odd ones that may be accepted.</summary>
    private static Gen<Value> Identifiers()
    {
        var refused = Gen.OneOf(
            Gen.OneOf(
                ("", "empty"),
                (".", "\".\""),
                ("..", "\"..\""),
                (" RED-CHAIR", "leading space"),
                ("RED-CHAIR\u00A0", "trailing no-break space"),
                ("cafe\u0301", "decomposed (NFD)"),
                ("\u200B", "zero-width space only"),
                ("\u200D\u200C\u2060", "joiners only"),
                ("\u3164", "Hangul filler only"),
                ("\uFEFF", "byte order mark only"),
                ("a\uD800b", "unpaired high surrogate"),
                ("\uDC00", "unpaired low surrogate"),
                ("\uDE00\uD83C", "surrogates in the wrong order")),
            Gen.Int[0, 0x1F].Select(c => ($"line{(char)c}break", $"control U+{c:X4}")),
            Gen.OneOf(0x7F, 0x85, 0x9F).Select(c => ($"del{(char)c}", $"control U+{c:X4}")),
            Gen.Int[256, 5000].Select(length => (new string('x', length), $"{length} characters")),
            Gen.Int[256, 300].Select(length => (string.Concat(Enumerable.Repeat("\U0001F389", length)), $"{length} emoji")));
        var odd = Gen.OneOf(
            ("RED-CHAIR", "RED-CHAIR"),
            ("\U0001F389", "an emoji"),
            ("\U0001F469\u200D\U0001F469\u200D\U0001F467", "a family emoji (joiners)"),
            ("caf\u00E9", "composed (NFC)"),
            ("\u65E5\u672C\u8A9E", "CJK"),
            ("\u05E9\u05DC\u05D5\u05DD", "right to left"),
            ("a\u200Db", "a joiner inside"),
            ("\uFFFD", "the replacement character"),
            ("x/y?z#%2F", "URL characters"),
            (string.Concat(Enumerable.Repeat("\U0001F388", 255)), "255 emoji"),
            ("\"quoted\" \\ back", "quotes and a backslash"));
        return Gen.OneOf(
                refused.Select(pair => (Text: pair.Item1, pair.Item2, Refused: true)),
                odd.Select(pair => (Text: pair.Item1, pair.Item2, Refused: false)))
            .SelectMany(value => Gen.Bool.Select(escape => new Value(Quote(value.Text, escape), value.Refused, $"{value.Item2}{(escape ? " (escaped)" : "")}")));
    }

    // Any proper prefix of an object is not JSON (the empty one is no body): refused.
    private static Gen<BodyChange?> Truncate() =>
        Gen.Double.Unit.Select<double, BodyChange?>(fraction => bytes =>
        {
            var length = (int)(fraction * (bytes.Length - 1));
            return (bytes[..length], true, $"cut to {length} bytes");
        });

    private static Gen<BodyChange?> BreakUtf8() =>
        Gen.Select<byte[], double, BodyChange?>(
            Gen.OneOf<byte[]>([0xFF], [0xFE], [0x80], [0xC0, 0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3]),
            Gen.Double.Unit,
            (invalid, fraction) => (BodyChange?)(bytes =>
            {
                var at = (int)(fraction * bytes.Length);
                return ([.. bytes[..at], .. invalid, .. bytes[at..]], true, $"bytes {Convert.ToHexString(invalid)} (not UTF-8) at {at}");
            }));

    private static Gen<BodyChange?> Wrap() =>
        Gen.OneOf(
            ("[", "]", true, "in an array"),
            ("[[[[[[[[[[", "]]]]]]]]]]", true, "10 arrays deep"),
            ("", "}", true, "a } too many"),
            ("", " {}", true, "a second object after it"),
            ("/* note */", "", true, "a comment before it"),
            ("\uFEFF", "", false, "a byte order mark before it"),
            (" \r\n\t", "\n", false, "white space around it"))
        .Select<(string, string, bool, string), BodyChange?>(wrap => bytes =>
            ([.. Encoding.UTF8.GetBytes(wrap.Item1), .. bytes, .. Encoding.UTF8.GetBytes(wrap.Item2)], wrap.Item3, wrap.Item4));

    private static Gen<BodyChange?> Replace() =>
        Gen.OneOf("null", "42", "\"a string\"", "true", "[]", "", "   ", Nested(5000))
            .Select<string, BodyChange?>(json => _ =>
                (Encoding.UTF8.GetBytes(json), true, $"replaced by {(json.Length > 20 ? "5000 nested arrays" : json.Length == 0 ? "nothing" : json)}"));

    private static string Nested(int depth) => new string('[', depth) + new string(']', depth);

    private static Gen<string> OneOf(params string[] values) => Gen.OneOf(values);
}
