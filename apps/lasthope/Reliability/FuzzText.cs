using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Lasthope.Text;
using Lasthope.Text.Encoder;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The text model the fuzz drill's server serves at /v1/text/fz-route: a three-way complaint router trained here from
/// templates, both families (the TF-IDF baseline and the int8 MiniLM encoder's head, the server's default encoder), so
/// that hostile texts reach the tokenizer and the ONNX session, not only the validation.
/// </summary>
internal static class FuzzText
{
    public const string Name = "fz-route";

    public const string Path = "/v1/text/" + Name;

    public const string EditNeedPath = "/v1/text/edit-need";

    private static readonly string[] Words = ["charged", "twice", "refund", "card", "declined", "close", "account", "fee", "loan", "the", "my", "please", "why"];

    private static readonly string[] Strange = ["\u00e9\u00e8\u00ea", "\u4f60\u597d", "\ud83d\ude00", "\u202e", "\u200b", "\t", "\n", "\\", "\"", "<script>", "%00", "\u0301\u0301\u0301", "\uFEFF", "0x7f"];

    /// <summary>Registers and activates the text model on the drill's server.</summary>
    public static async Task RegisterAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(Package(cancellationToken));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v1/models?activate=true", content, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"The fuzz drill's text model was refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private static byte[] Package(CancellationToken cancellationToken)
    {
        string[][] templates =
        [
            ["I was charged twice for my {0}", "a wrong fee on my {0} bill", "refund the extra charge for my {0}"],
            ["my card was declined paying for my {0}", "the card does not work for my {0}", "I lost my card buying a {0}"],
            ["please close my {0} account", "cancel the {0} account for good", "shut down my {0} account"],
        ];
        string[] things = ["phone", "internet", "loan", "savings", "rent"];
        var texts = new List<string>();
        var labels = new List<double>();
        for (var c = 0; c < templates.Length; c++)
        {
            foreach (var text in templates[c].SelectMany(t => things.Select(thing => string.Format(CultureInfo.InvariantCulture, t, thing))))
            {
                texts.Add(text);
                labels.Add(c);
            }
        }

        using var encoder = new MiniLmEncoder();
        var baseline = TfIdfBaseline.Train(TextTask.Classify, texts, labels, 3, seed: 1, cancellationToken);
        var head = LinearHead.Train(TextTask.Classify, encoder.Encode(texts, cancellationToken), labels, 3, seed: 1, cancellationToken);
        return TextModel.Create(Name, TextTask.Classify, ["billing", "card", "closure"], budgetMs: 50, baseline, head, encoder).ToBytes();
    }

    /// <summary>A text: a few words, sometimes with odd characters, sometimes near the 2,000-character limit or over it.</summary>
    public static string Text(Random r)
    {
        var length = r.Next(10) switch { 0 => r.Next(1_500, 2_100), 1 => 0, _ => r.Next(1, 25) };
        var words = new List<string>();
        var size = 0;
        while (size < length)
        {
            var word = r.Next(8) == 0 ? Strange[r.Next(Strange.Length)] : Words[r.Next(Words.Length)];
            words.Add(word);
            size += word.Length + 1;
        }

        return string.Join(' ', words);
    }

    /// <summary>A valid body (or nearly: an empty or over-long text is a 400): one text or a batch, maybe a budget.</summary>
    public static JsonObject Body(Random r)
    {
        var body = r.Next(3) == 0
            ? new JsonObject { ["texts"] = new JsonArray([.. Enumerable.Range(0, r.Next(1, 10)).Select(_ => (JsonNode)Text(r))]) }
            : new JsonObject { ["text"] = Text(r) };
        if (r.Next(3) == 0)
        {
            body["budgetMs"] = r.Next(1, 200);
        }

        return body;
    }

    /// <summary>An edit-need body (the drill registers no edit-need model, so the valid ones are 404s).</summary>
    public static JsonObject EditNeedBody(Random r) => new() { ["document"] = string.Join("\n\n", Enumerable.Range(0, r.Next(1, 4)).Select(_ => Text(r))) };
}
