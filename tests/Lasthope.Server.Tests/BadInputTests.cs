using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Lasthope.Server.Tests;

/// <summary>Every bad input gets a 4xx with RFC 7807 problem details naming the field; never a 500.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private LoopbackServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
    {
        ["Lasthope:Ranking:MaxCandidates"] = "5",
        ["Lasthope:Ranking:MaxBodyBytes"] = "4096",
    });

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task<(HttpStatusCode Status, JsonElement Problem)> PostRawAsync(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await _server.Client.PostAsync(path, content);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private static void AssertNamesField(JsonElement problem, string field)
    {
        Assert.True(problem.TryGetProperty("errors", out var errors), $"no errors in {problem}");
        Assert.True(errors.TryGetProperty(field, out _), $"errors do not name '{field}': {errors}");
    }

    [Fact]
    public async Task MalformedJson_Is400_NamingTheBody_AndWhereItBroke()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", "{\"user\": {\"id\": \"u\"}, \"candidates\": [\"a\"");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateObject());
        Assert.StartsWith("candidates", error.Name, StringComparison.Ordinal);
        Assert.StartsWith("Malformed JSON", error.Value[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotJsonAtAll_Is400()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", "hello");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "body");
    }

    [Fact]
    public async Task MissingUser_Is400_NamingUser()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", """{"candidates": ["a"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "user");
    }

    [Fact]
    public async Task MissingUserId_Is400_NamingUserId()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", """{"user": {"age": 3}, "candidates": ["a"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "user.id");
    }

    [Fact]
    public async Task WrongTypedCount_Is400_NamingCount()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", """{"user": {"id": "u"}, "candidates": ["a"], "count": "ten"}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "count");
    }

    [Fact]
    public async Task WrongTypedCandidate_Is400_NamingTheCandidate()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", """{"user": {"id": "u"}, "candidates": ["a", 42]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "candidates[1]");
    }

    [Fact]
    public async Task EmptyCandidates_Is400_NamingCandidates()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", """{"user": {"id": "u"}, "candidates": []}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "candidates");
    }

    [Fact]
    public async Task TooManyCandidates_Is400_NamingCandidatesAndTheLimit()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", """{"user": {"id": "u"}, "candidates": ["a","b","c","d","e","f"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "candidates");
        Assert.Contains("limit is 5", problem.GetProperty("errors").GetProperty("candidates")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedBody_Is413_NamingTheBody()
    {
        var big = string.Join(",", Enumerable.Range(0, 2000).Select(i => $"\"item-{i}\""));
        var (status, problem) = await PostRawAsync("/v1/rank", $$"""{"user": {"id": "u"}, "candidates": [{{big}}]}""");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        AssertNamesField(problem, "body");
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("\"NaN\"")]
    [InlineData("1e999")]
    public async Task NonFiniteFeatureValues_Are400_NamingTheFeature(string value)
    {
        var (status, problem) = await PostRawAsync("/v1/rank", $$$"""{"user": {"id": "u"}, "candidates": [{"id": "a", "features": {"price": {{{value}}}}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var field = problem.GetProperty("errors").EnumerateObject().Single().Name;
        Assert.StartsWith("candidates[0]", field, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonFiniteBudget_Is400_NamingBudget()
    {
        var (status, problem) = await PostRawAsync("/v1/rank", """{"user": {"id": "u"}, "candidates": ["a"], "budgetMs": 1e999}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "budgetMs");
    }

    [Fact]
    public async Task UnknownEventType_Is400_NamingTheEventsTypeField()
    {
        var (status, problem) = await PostRawAsync("/v1/events", """{"events": [{"eventId": "e1", "itemId": "a", "type": "hover"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "events[0].type");
    }

    [Fact]
    public async Task TimestampFarInTheFuture_Is400_NamingTheTimestamp()
    {
        var future = LoopbackServer.DefaultNow.AddDays(2).ToString("O");
        var (status, problem) = await PostRawAsync("/v1/events", $$"""{"events": [{"eventId": "e1", "itemId": "a", "timestamp": "{{future}}"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "events[0].timestamp");
    }

    [Fact]
    public async Task TimestampOlderThanMaxPastAge_Is400_NamingTheTimestamp_UnlessConfigured()
    {
        var old = LoopbackServer.DefaultNow.AddDays(-31).ToString("O");
        var body = $$"""{"events": [{"eventId": "e1", "itemId": "a", "timestamp": "{{old}}"}]}""";
        var (status, problem) = await PostRawAsync("/v1/events", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "events[0].timestamp");
        Assert.Contains("Events:MaxPastAge", problem.GetRawText(), StringComparison.Ordinal);

        await using var history = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Events:MaxPastAge"] = "400.00:00:00" });
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await history.Client.PostAsync("/v1/events", content);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal(1, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task WrongTypedTimestamp_Is400_NamingIt()
    {
        var (status, problem) = await PostRawAsync("/v1/events", """{"events": [{"eventId": "e1", "itemId": "a", "timestamp": "yesterday"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "events[0].timestamp");
    }

    [Fact]
    public async Task MissingEventsArray_Is400_NamingEvents()
    {
        var (status, problem) = await PostRawAsync("/v1/events", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        AssertNamesField(problem, "events");
    }
}
