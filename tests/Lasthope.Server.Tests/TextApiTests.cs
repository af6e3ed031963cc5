using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Text;
using Lasthope.Text.Encoder;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Server.Tests;

/// <summary>
/// POST /v1/text/{name} over loopback against a real server with the real MiniLM encoder: the encoder family answers
/// with the scores it gives offline; past the budget, on an error, or on a host without the encoder, the TF-IDF
/// baseline answers every text with the served-path contract saying so; bad input is a 400 naming the field.
/// </summary>
public sealed class TextApiTests
{
    private static readonly string[] Classes = ["billing", "card", "closure"];

    private static readonly MiniLmEncoder Encoder = new();

    /// <summary>A small routing model: three kinds of complaint, written from templates, both families trained on them.</summary>
    private static readonly Lazy<TextModel> Routing = new(() =>
    {
        string[][] templates =
        [
            ["I was charged twice for my {0}", "there is a wrong fee on my {0} bill", "please refund the extra charge for my {0}", "my {0} statement shows a payment I never made"],
            ["my card was declined when paying for my {0}", "the card does not work for my {0}", "my card got stuck in the machine while buying a {0}", "I lost my card and need a new one for my {0}"],
            ["please close my {0} account", "I want to cancel the {0} account for good", "how do I shut down my {0} account", "end my {0} contract and close everything"],
        ];
        string[] things = ["phone", "internet", "mortgage", "loan", "savings", "insurance", "travel", "groceries", "subscription", "rent"];
        var texts = new List<string>();
        var labels = new List<double>();
        for (var c = 0; c < templates.Length; c++)
        {
            foreach (var template in templates[c])
            {
                foreach (var thing in things)
                {
                    texts.Add(string.Format(System.Globalization.CultureInfo.InvariantCulture, template, thing));
                    labels.Add(c);
                }
            }
        }

        var baseline = TfIdfBaseline.Train(TextTask.Classify, texts, labels, Classes.Length, seed: 1);
        var head = LinearHead.Train(TextTask.Classify, Encoder.Encode(texts), labels, Classes.Length, seed: 1);
        return TextModel.Create("routing", TextTask.Classify, Classes, budgetMs: 10_000, baseline, head, Encoder);
    });

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Task<LoopbackServer> StartAsync(IDictionary<string, string?>? settings = null, bool encoder = true) =>
        LoopbackServer.StartAsync(settings, services: encoder ? s => s.AddSingleton<ITextEncoder>(Encoder) : null);

    private static async Task RegisterAsync(LoopbackServer server, byte[] package)
    {
        using var content = new ByteArrayContent(package);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await server.Client.PostAsync("/v1/models?activate=true", content, Token);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Token)}");
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ScoreAsync(LoopbackServer server, string name, object request)
    {
        using var response = await server.Client.PostAsJsonAsync($"/v1/text/{name}", request, Token);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement.Clone());
    }

    private static double[] Offline(ITextScorer scorer, params string[] texts)
    {
        var output = new double[texts.Length * Classes.Length];
        scorer.Score(texts, output);
        return output;
    }

    private static void AssertScores(double[] expected, JsonElement body)
    {
        var predictions = body.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(expected.Length / Classes.Length, predictions.Length);
        for (var i = 0; i < predictions.Length; i++)
        {
            var row = expected.AsSpan(i * Classes.Length, Classes.Length).ToArray();
            var best = Array.IndexOf(row, row.Max());
            Assert.Equal(Classes[best], predictions[i].GetProperty("label").GetString());
            Assert.Equal(row[best], predictions[i].GetProperty("score").GetDouble(), 1e-9);
            for (var k = 0; k < Classes.Length; k++)
            {
                Assert.Equal(row[k], predictions[i].GetProperty("probabilities").GetProperty(Classes[k]).GetDouble(), 1e-9);
            }
        }
    }

    [Fact]
    public async Task TheEncoderFamily_Answers_WithItsOfflineScores_AndRoutesNewPhrasings()
    {
        await using var server = await StartAsync();
        await RegisterAsync(server, Routing.Value.ToBytes());
        string[] texts = ["You billed me two times for the same phone plan", "Shut my account down, I am leaving", "The terminal refused my card"];

        var (status, body) = await ScoreAsync(server, "routing", new { texts });

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("model", body.GetProperty("servedBy").GetString());
        Assert.Equal("encoder", body.GetProperty("family").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("fallbackReason").ValueKind);
        AssertScores(Offline(Routing.Value.Encoder!, texts), body);
        Assert.Equal(["billing", "closure", "card"], body.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("label").GetString()));

        var (_, one) = await ScoreAsync(server, "routing", new { text = texts[0] });
        AssertScores(Offline(Routing.Value.Encoder!, texts[0]), one);
    }

    [Fact]
    public async Task AnEncoderPastItsBudget_IsATimeout_AndTheBaselineAnswersEveryText()
    {
        await using var server = await StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:FaultInjection:ModelLatencyMs"] = "3000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyFraction"] = "1",
        });
        await RegisterAsync(server, Routing.Value.ToBytes());
        string[] texts = ["I was charged twice for my rent", "close my savings account"];
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var (status, body) = await ScoreAsync(server, "routing", new { texts, budgetMs = 100 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(2900), "the answer waited for the slow encoder");
        Assert.Equal("heuristic_fallback", body.GetProperty("servedBy").GetString());
        Assert.Equal("timeout", body.GetProperty("fallbackReason").GetString());
        Assert.Equal("baseline", body.GetProperty("family").GetString());
        Assert.Equal(100, body.GetProperty("budgetMs").GetDouble());
        AssertScores(Offline(Routing.Value.Baseline, texts), body);
    }

    [Fact]
    public async Task AnEncoderCallPastTheDeadline_IsStopped_SoThatItsCoreIsFreedForTheNextRequests()
    {
        var stalling = new StallingEncoder(Encoder);
        await using var server = await LoopbackServer.StartAsync(services: s => s.AddSingleton<ITextEncoder>(stalling));
        await RegisterAsync(server, Routing.Value.ToBytes());

        var (status, body) = await ScoreAsync(server, "routing", new { text = "close my savings account", budgetMs = 100 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("timeout", body.GetProperty("fallbackReason").GetString());
        // Without the stop the stalled call would hold its scoring turn for its whole 60 s.
        Assert.True(await stalling.Stopped.Task.WaitAsync(TimeSpan.FromSeconds(30), Token), "the late encoder call was not stopped");
    }

    [Fact]
    public async Task AnEncoderThatThrowsACancellationOfItsOwn_IsAModelError_NeverA500()
    {
        var cancelling = new CancellingEncoder(Encoder);
        await using var server = await LoopbackServer.StartAsync(services: s => s.AddSingleton<ITextEncoder>(cancelling));
        await RegisterAsync(server, Routing.Value.ToBytes());

        var (status, body) = await ScoreAsync(server, "routing", new { text = "close my savings account" });

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("heuristic_fallback", body.GetProperty("servedBy").GetString());
        Assert.Equal("model_error", body.GetProperty("fallbackReason").GetString());
    }

    /// <summary>The real encoder for the warm-up; on the serve path (a token that can be cancelled) a cancellation nobody asked for.</summary>
    private sealed class CancellingEncoder(ITextEncoder real) : ITextEncoder
    {
        public string Name => real.Name;

        public int Dimensions => real.Dimensions;

        public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
            cancellationToken.CanBeCanceled ? throw new OperationCanceledException("made up") : real.Encode(texts, cancellationToken);
    }

    /// <summary>
    /// The real encoder's name and size, but a call that can be stopped stalls until its token stops it (at most 60 s);
    /// the registry's warm-up, which cannot be stopped, is answered at once.
    /// </summary>
    private sealed class StallingEncoder(ITextEncoder real) : ITextEncoder
    {
        public TaskCompletionSource<bool> Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => real.Name;

        public int Dimensions => real.Dimensions;

        public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
        {
            if (!cancellationToken.CanBeCanceled)
            {
                return real.Encode(texts, cancellationToken);
            }

            var stopped = cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(60));
            Stopped.TrySetResult(stopped);
            cancellationToken.ThrowIfCancellationRequested();
            return real.Encode(texts, cancellationToken);
        }
    }

    [Fact]
    public async Task AnEncoderError_IsAModelError_AnsweredByTheBaseline()
    {
        await using var server = await StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:FaultInjection:ModelErrorFraction"] = "1" });
        await RegisterAsync(server, Routing.Value.ToBytes());
        var (_, body) = await ScoreAsync(server, "routing", new { text = "my card was declined" });
        Assert.Equal("model_error", body.GetProperty("fallbackReason").GetString());
        Assert.Equal("baseline", body.GetProperty("family").GetString());
        AssertScores(Offline(Routing.Value.Baseline, "my card was declined"), body);
    }

    [Fact]
    public async Task AHostWithoutTheEncoder_ServesTheBaseline_WithNoModel_AndAfterARestart()
    {
        var directory = LoopbackServer.NewDataDirectory();
        try
        {
            await using (var server = await LoopbackServer.StartAsync(dataDirectory: directory))
            {
                await RegisterAsync(server, Routing.Value.ToBytes());
                var (_, body) = await ScoreAsync(server, "routing", new { text = "please close my loan account" });
                Assert.Equal("no_model", body.GetProperty("fallbackReason").GetString());
                Assert.Equal("baseline", body.GetProperty("family").GetString());
            }

            await using var restarted = await LoopbackServer.StartAsync(dataDirectory: directory, services: s => s.AddSingleton<ITextEncoder>(Encoder));
            var (status, again) = await ScoreAsync(restarted, "routing", new { text = "please close my loan account" });
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("encoder", again.GetProperty("family").GetString()); // the same package, now with its encoder
            using var list = await restarted.Client.GetAsync("/v1/text", Token);
            var models = JsonDocument.Parse(await list.Content.ReadAsStringAsync(Token)).RootElement;
            Assert.Equal("routing", models[0].GetProperty("name").GetString());
            Assert.True(models[0].GetProperty("encoderAvailable").GetBoolean());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { """{"text": ""}""", "text" },
        { """{"texts": []}""", "text" },
        { """{"text": "a", "texts": ["b"]}""", "text" },
        { """{"texts": ["ok", "  "]}""", "texts[1]" },
        { """{"texts": ["ok", null]}""", "texts[1]" },
        { "{\"text\": \"" + new string('x', 2_001) + "\"}", "text" },
        { "{\"texts\": [" + string.Join(',', Enumerable.Repeat("\"a\"", 65)) + "]}", "texts" },
        { """{"text": "a", "budgetMs": 0}""", "budgetMs" },
        { """{"text": "a", "version": "bad\nversion"}""", "version" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInput_IsA400NamingTheField(string json, string field)
    {
        await using var server = await StartAsync(encoder: false);
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await server.Client.PostAsync("/v1/text/routing", content, Token);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement;
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body.ToString());
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), body.ToString());
    }

    [Fact]
    public async Task AnUnknownModel_IsA404_AndABrokenPackage_IsA422()
    {
        await using var server = await StartAsync(encoder: false);
        var (status, _) = await ScoreAsync(server, "nothing", new { text = "hello" });
        Assert.Equal(HttpStatusCode.NotFound, status);

        var broken = System.Text.Encoding.UTF8.GetBytes("""{"format": "lasthope-text/1", "name": "x", "task": "classify", "classes": ["a", "a"], "baseline": "AAAA"}""");
        using var content = new ByteArrayContent(broken);
        using var response = await server.Client.PostAsync("/v1/models", content, Token);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }
}
