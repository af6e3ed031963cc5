using System.Text.Json;
using nietras.SeparatedValues;

namespace Lasthope.Cli.Load;

/// <summary>Text request bodies (<c>{"text": ...}</c>, one text each): from a file, or a built-in set of short complaint-like sentences.</summary>
internal static class TextBodies
{
    /// <summary>Short texts of the length the bar is about ("one short text"): 6 to 20 words, the register of a complaint or a headline.</summary>
    public static readonly IReadOnlyList<string> BuiltIn =
    [
        "I was charged twice for the same transfer and nobody answers my emails.",
        "My card still has not arrived after three weeks.",
        "Please close my account, I am moving to another bank.",
        "The app keeps logging me out when I try to pay a bill.",
        "Why was a late fee added when I paid on time?",
        "Thanks, the support agent fixed my problem in five minutes.",
        "The refund I was promised last month never showed up.",
        "I cannot reset my password, the code never comes.",
        "Your prices went up again without any notice.",
        "The new statement layout is much clearer, well done.",
        "I disputed a charge and the bank sided with the merchant without asking me.",
        "Service was down all morning and I could not reach anyone.",
        "Shares jump after the company beats earnings estimates.",
        "Stock falls as the regulator opens an investigation.",
        "My direct debit was cancelled and I was never told.",
        "How do I change the address on my account?",
        "The interest rate on my loan is not what the contract says.",
        "I have been on hold for an hour, this is unacceptable.",
        "Great service, my replacement card came the next day.",
        "The collection agency keeps calling about a debt that is not mine.",
    ];

    /// <summary>
    /// Bodies for each text of <paramref name="path"/>, up to <paramref name="max"/>: a <c>.csv</c> file's
    /// <paramref name="column"/> (named by its header), or any other file's non-empty lines, one text a line.
    /// </summary>
    /// <exception cref="InvalidDataException">The file has no such column or no texts.</exception>
    public static IReadOnlyList<byte[]> FromFile(string path, string column, int max)
    {
        var texts = new List<string>();
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = Sep.Reader(o => o with { Unescape = true, Trim = SepTrim.All }).FromFile(path);
            if (!reader.Header.TryIndexOf(column, out var index))
            {
                throw new InvalidDataException($"{path} has no column '{column}' (its header: {string.Join(", ", reader.Header.ColNames)}).");
            }

            foreach (var row in reader)
            {
                if (texts.Count >= max)
                {
                    break;
                }

                var text = row[index].ToString();
                if (!string.IsNullOrWhiteSpace(text))
                {
                    texts.Add(text);
                }
            }
        }
        else
        {
            texts.AddRange(File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l.Trim()).Take(max));
        }

        return texts.Count > 0 ? Of(texts) : throw new InvalidDataException($"{path} has no texts.");
    }

    public static IReadOnlyList<byte[]> Of(IEnumerable<string> texts) => [.. texts.Select(Body)];

    private static byte[] Body(string text)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("text", text);
            json.WriteEndObject();
        }

        return stream.ToArray();
    }
}
