using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Testing;
using Lasthope.Text;
using Lasthope.Text.EditNeed;
using Lasthope.Training.Text;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Server.Tests;

/// <summary>
/// POST /v1/text/edit-need over loopback: a model trained on real revisions (a subset) answers each sentence's edit rate
/// as it does offline and highlights the top share; past the budget the text features alone answer, said by servedBy.
/// </summary>
public sealed class EditNeedApiTests
{
    private const string Document = "This paper describe a new method for the parsing. We evaluate it on two benchmarks.\nThe results is good, but more work are needed. Future work will study other languages.";

    /// <summary>A cheap deterministic encoder (hashed character trigrams): the cascade, not MiniLM, is under test here.</summary>
    private sealed class TrigramEncoder : ITextEncoder
    {
        public string Name => "trigrams-16";

        public int Dimensions => 16;

        public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) => [.. texts.Select(text =>
        {
            var v = new float[16];
            for (var i = 0; i + 3 <= text.Length; i++)
            {
                v[(int)((uint)string.GetHashCode(text.AsSpan(i, 3), StringComparison.Ordinal) % 16)] += 1;
            }

            var norm = MathF.Sqrt(v.Sum(x => x * x));
            return norm == 0 ? v : [.. v.Select(x => x / norm)];
        })];
    }

    private static readonly TrigramEncoder Encoder = new();

    private static readonly Lazy<EditNeedModel> Trained = new(() =>
    {
        var documents = EditNeedData.Load(TestData.Require("text-revisions"), EditNeedLevel.Sentence);
        return EditNeedTraining.Run([.. documents.Take(200)], new EditNeedTrainingOptions { Resamples = 50, HashBuckets = 64 }, new EditNeedLightGbm(threads: 2, iterations: 100), Encoder).Model;
    });

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<LoopbackServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var server = await LoopbackServer.StartAsync(settings, services: s => s.AddSingleton<ITextEncoder>(Encoder));
        using var content = new ByteArrayContent(Trained.Value.ToBytes());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await server.Client.PostAsync("/v1/models?activate=true", content, Token);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Token)}");
        return server;
    }

    private static async Task<(HttpStatusCode, JsonElement)> PostAsync(LoopbackServer server, object request)
    {
        using var response = await server.Client.PostAsJsonAsync("/v1/text/edit-need", request, Token);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement.Clone());
    }

    private static void AssertUnits(EditNeedPrediction expected, JsonElement body)
    {
        var units = body.GetProperty("units").EnumerateArray().ToArray();
        Assert.Equal(expected.Units.Count, units.Length);
        for (var i = 0; i < units.Length; i++)
        {
            Assert.Equal(expected.Units[i].Text, units[i].GetProperty("text").GetString());
            Assert.Equal(expected.Units[i].Rate, units[i].GetProperty("rate").GetDouble(), 1e-12);
            Assert.Equal(expected.Units[i].Highlighted, units[i].GetProperty("highlighted").GetBoolean());
        }

        Assert.Contains(units, u => u.GetProperty("highlighted").GetBoolean());
    }

    [Fact]
    public async Task ADocument_GetsEachSentencesRate_AsOffline_WithTheTopShareHighlighted()
    {
        await using var server = await StartAsync();
        var (status, body) = await PostAsync(server, new { document = Document, budgetMs = 10_000 });

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("model", body.GetProperty("servedBy").GetString());
        Assert.True(body.GetProperty("usedEncoder").GetBoolean());
        Assert.Equal("sentence", body.GetProperty("level").GetString());
        AssertUnits(Trained.Value.Predict(Document, useEncoder: true), body);
    }

    [Fact]
    public async Task AnEncoderPastTheBudget_LeavesTheTextFeaturesToAnswer()
    {
        await using var server = await StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:FaultInjection:ModelLatencyMs"] = "3000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyFraction"] = "1",
        });
        var (status, body) = await PostAsync(server, new { document = Document, budgetMs = 50 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("heuristic_fallback", body.GetProperty("servedBy").GetString());
        Assert.Equal("timeout", body.GetProperty("fallbackReason").GetString());
        Assert.False(body.GetProperty("usedEncoder").GetBoolean());
        AssertUnits(Trained.Value.Predict(Document, useEncoder: false), body);
    }

    [Theory]
    [InlineData("""{"document": null}""")]
    [InlineData("""{"document": "   "}""")]
    [InlineData("""{"document": "a", "budgetMs": -1}""")]
    public async Task BadDocuments_AreA400NamingTheField(string json)
    {
        await using var server = await StartAsync();
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await server.Client.PostAsync("/v1/text/edit-need", content, Token);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Token)).RootElement;
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body.ToString());
        Assert.True(body.GetProperty("errors").TryGetProperty(json.Contains("budgetMs", StringComparison.Ordinal) ? "budgetMs" : "document", out _), body.ToString());

        var huge = new string('x', EditNeedModel.MaxDocumentChars + 1);
        var (status, _) = await PostAsync(server, new { document = huge });
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }
}
