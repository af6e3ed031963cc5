using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Client;
using Lasthope.Core.Serving;

namespace Lasthope.Server.Tests;

/// <summary>
/// The typed client against the real server: what it sends is accepted, what the server answers it reads, and it
/// misses no field of the answers (an unmapped member is an error here), so the two cannot drift apart unseen.
/// </summary>
public sealed class ClientContractTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly ClientJson Strict = new(new JsonSerializerOptions(ClientJson.Default.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow });

    [Fact]
    public async Task RankEventsModelsAndStatus_RoundTrip_WithNoFieldLeftBehind()
    {
        const string key = "client-contract-key-0123456789";
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Security:ApiKeys:0:Key"] = key,
            ["Lasthope:Security:ApiKeys:0:Scopes:0"] = "rank",
            ["Lasthope:Security:ApiKeys:0:Scopes:1"] = "events",
            ["Lasthope:Security:ApiKeys:0:Scopes:2"] = "admin",
            ["Lasthope:Serving:Surfaces:shop:RequestFeatures:0"] = "price",
        });
        var client = new LasthopeClient(server.Client, key);

        var model = await client.RegisterModelAsync(Encoding.UTF8.GetBytes(TestModels.SmallModel), "home", version: "client-v1", activate: true, Ct);
        Assert.Equal("client-v1", model.Version);
        Assert.Equal(["home"], model.ActiveOn);
        var ranked = await client.RankAsync(new RankRequest
        {
            RequestId = "c1",
            Surface = "home",
            User = new UserRef("u") { Age = 30, Gender = "f" },
            Candidates = ["a", new Candidate("b", new Dictionary<string, double> { ["price"] = 2 }), "c", "d"],
            Exclude = ["d"],
            Count = 2,
        }, Ct);
        Assert.Equal(ServedBy.Model, ranked.ServedBy);
        Assert.Equal("client-v1", ranked.ModelVersion);
        Assert.Equal(2, ranked.Items.Count);
        Assert.DoesNotContain(ranked.Items, i => i.Id == "d");

        var posted = await client.PostEventsAsync([new InteractionEvent("e1", ranked.Items[0].Id) { RequestId = "c1" }, new InteractionEvent("e2", "zzz") { RequestId = "c1" }], Ct);
        Assert.Equal(1, posted.Accepted);
        Assert.Equal("events[1].itemId", Assert.Single(posted.Rejected).Field);
        Assert.Equal("client-v1", Assert.Single(await client.ListModelsAsync(Ct)).Version);
        Assert.Single((await client.ActivateModelAsync("client-v1", cancellationToken: Ct)).ActiveOn);
        await server.FlushAsync();
        Assert.Equal(1, (await client.GetStatusAsync(Ct)).Events);

        // Strictly: every field the server sends has its place in the client's records.
        async Task<string> Raw(HttpMethod method, string path, string? body = null)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            using var response = await server.Client.SendAsync(request, Ct);
            return await response.Content.ReadAsStringAsync(Ct);
        }

        JsonSerializer.Deserialize(await Raw(HttpMethod.Post, "/v1/rank", """{"surface":"home","user":{"id":"u"},"candidates":["a","b"]}"""), Strict.RankResponse);
        JsonSerializer.Deserialize(await Raw(HttpMethod.Post, "/v1/events", """{"events":[{"eventId":"e3","itemId":"a"}]}"""), Strict.EventBatchResult);
        JsonSerializer.Deserialize(await Raw(HttpMethod.Get, "/v1/models"), Strict.ModelInfoArray);

        // A predictor: registered, then asked with a number, a category and a missing value, strictly read.
        var predictor = await client.RegisterPredictorAsync(TestPredictors.Binary().ToBytes(), version: "credit-v1", activate: true, Ct);
        Assert.Equal(["predictor:credit"], predictor.ActiveOn);
        var predicted = await client.PredictAsync("credit", new PredictRequest
        {
            Features = new Dictionary<string, object?> { ["income"] = 30.5, ["region"] = "south", ["permit"] = null },
            Explain = 3,
            Counterfactual = true,
        }, Ct);
        Assert.Equal(ServedBy.Model, predicted.ServedBy);
        Assert.Equal("credit-v1", predicted.ModelVersion);
        Assert.Equal("binary", predicted.Task);
        Assert.Equal(3, Assert.Single(predicted.Predictions).Reasons!.Count);
        var strictly = JsonSerializer.Deserialize(await Raw(HttpMethod.Post, "/v1/predict/credit", """{"rows":[{"features":{"income":30}},{"features":{"region":"north"}}],"counterfactual":true}"""), Strict.PredictResponse)!;
        Assert.Equal(2, strictly.Predictions.Count);
    }

    [Fact]
    public async Task AnErrorAnswer_IsAnExceptionWithItsProblem()
    {
        await using var server = await LoopbackServer.StartAsync();
        var client = new LasthopeClient(server.Client);
        var error = await Assert.ThrowsAsync<LasthopeApiException>(() => client.RankAsync(new RankRequest { User = new UserRef("u\u0001"), Candidates = ["a"] }, Ct));
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.True(error.Problem!.Errors!.ContainsKey("user.id"));
        error = await Assert.ThrowsAsync<LasthopeApiException>(() => client.ActivateModelAsync("none", cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.NotFound, error.Status);
    }
}
