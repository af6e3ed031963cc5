using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace Lasthope.Server.Tests;

/// <summary>
/// The OpenAPI document is the contract: a valid OpenAPI 3 document naming every /v1 route with its problem responses,
/// and a snapshot in the repository, so that a change to the contract shows as a diff in review.
/// </summary>
public sealed class OpenApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string SnapshotPath => Path.Combine(Lasthope.Testing.TestData.RepositoryRoot, "tests", "Lasthope.Server.Tests", "Snapshots", "openapi.v1.json");

    private static async Task<string> DocumentAsync()
    {
        await using var server = await LoopbackServer.StartAsync();
        return await server.Client.GetStringAsync("/openapi/v1.json", Ct);
    }

    [Fact]
    public async Task TheDocument_IsValidOpenApi3_AndNamesEveryRouteWithItsProblems()
    {
        var json = await DocumentAsync();
        var result = OpenApiDocument.Parse(json, OpenApiConstants.Json);
        Assert.Empty(result.Diagnostic?.Errors ?? []);
        var document = result.Document!;
        Assert.StartsWith("3.", result.Diagnostic!.SpecificationVersion.ToString().Replace("OpenApi", "", StringComparison.Ordinal).Replace('_', '.'), StringComparison.Ordinal);

        var expected = new Dictionary<string, int[]>
        {
            ["POST /v1/rank"] = [200, 400, 408, 413, 415],
            ["POST /v1/recommend"] = [200, 400, 408, 413, 415],
            ["POST /v1/events"] = [200, 400, 408, 413, 415, 429],
            ["POST /v1/items"] = [200, 400, 408, 413, 415, 422, 429],
            ["GET /v1/items/{id}/stats"] = [200, 400],
            ["GET /v1/rank/{requestId}/explain"] = [200, 400, 404, 422],
            ["GET /v1/similar/{item}"] = [200, 400, 404],
            ["GET /v1/status"] = [200],
            ["GET /v1/experiments/{id}/report"] = [200, 400, 404],
            ["GET /v1/models"] = [200],
            ["POST /v1/models"] = [201, 400, 413, 422, 429],
            ["POST /v1/models/{version}/activate"] = [200, 400, 404, 422, 429],
            ["POST /v1/surfaces/{surface}/deactivate"] = [204, 400, 429],
            ["POST /v1/predict/{name}"] = [200, 400, 404, 408, 413, 415, 422],
            ["GET /v1/predictors"] = [200],
            ["POST /v1/text/{name}"] = [200, 400, 404, 408, 413, 415, 422],
            ["GET /v1/text"] = [200],
            ["POST /v1/text/edit-need"] = [200, 400, 404, 408, 413, 415, 422],
        };
        var found = document.Paths.SelectMany(p => p.Value.Operations!.Select(o => ($"{o.Key.ToString().ToUpperInvariant()} {p.Key}", o.Value))).ToDictionary(x => x.Item1, x => x.Value);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), found.Keys.Where(k => k.Contains(" /v1/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        foreach (var (route, statuses) in expected)
        {
            var operation = found[route];
            Assert.False(string.IsNullOrEmpty(operation.Summary), $"{route} has no summary");
            var responses = operation.Responses!.Keys.Select(int.Parse).ToHashSet();
            foreach (var status in statuses.Concat([401, 403, 503]))
            {
                Assert.True(responses.Contains(status), $"{route} does not declare {status}");
                if (status >= 400)
                {
                    Assert.Contains(operation.Responses[$"{status}"].Content!.Keys, k => k == "application/problem+json");
                }
            }
        }

        // The main requests carry examples; the served-path enums list their wire names.
        var rank = JsonNode.Parse(json)!;
        Assert.NotNull(rank["paths"]!["/v1/rank"]!["post"]!["requestBody"]!["content"]!["application/json"]!["example"]);
        var servedBy = rank["components"]!["schemas"]!["ServedBy"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>());
        Assert.Equal(["heuristic", "model", "model_partial", "heuristic_fallback"], servedBy);
    }

    [Fact]
    public async Task TheDocument_MatchesItsSnapshot()
    {
        var json = Normalise(await DocumentAsync());
        if (Environment.GetEnvironmentVariable("LASTHOPE_UPDATE_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(SnapshotPath)!);
            await File.WriteAllTextAsync(SnapshotPath, json, Ct);
        }

        Assert.True(File.Exists(SnapshotPath), $"No snapshot at {SnapshotPath}; run the tests once with LASTHOPE_UPDATE_SNAPSHOTS=1 and commit it.");
        var snapshot = await File.ReadAllTextAsync(SnapshotPath, Ct);
        Assert.True(snapshot == json, "The HTTP contract changed. If that is intended, run the tests with LASTHOPE_UPDATE_SNAPSHOTS=1 and commit tests/Lasthope.Server.Tests/Snapshots/openapi.v1.json; the diff is the contract change.");
    }

    [Fact]
    public async Task TheReference_IsServedFromTheExecutable_WithNoScriptFromElsewhere()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var page = await server.Client.GetAsync("/docs/", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync(Ct);
        var sources = System.Text.RegularExpressions.Regex.Matches(html, "src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, s => Assert.False(s.StartsWith("http", StringComparison.Ordinal) || s.StartsWith("//", StringComparison.Ordinal), $"the page loads {s} from elsewhere"));
        foreach (var source in sources)
        {
            using var script = await server.Client.GetAsync(new Uri(new Uri(server.Server.BaseAddress, "/docs/"), source), Ct);
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        }
    }

    /// <summary>Stable text: indented, the server's version (which changes with every build) blanked.</summary>
    private static string Normalise(string json)
    {
        var node = JsonNode.Parse(json)!;
        node["info"]!["version"] = "(version)";
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
