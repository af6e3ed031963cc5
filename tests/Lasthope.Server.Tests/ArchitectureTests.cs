using System.Text.RegularExpressions;
using Lasthope.Testing;

namespace Lasthope.Server.Tests;

/// <summary>
/// The layering, read from the code: inside the server, namespaces depend one way (the serving core knows no HTTP and
/// no host), and outside it nothing uses the HTTP layer's types. docs/ARCHITECTURE.md draws the same graph.
/// </summary>
public sealed partial class ArchitectureTests
{
    /// <summary>Each namespace of the server and the ones it may use; anything else is a dependency the wrong way.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Configuration"] = [],
        ["Telemetry"] = [],
        ["State"] = ["Configuration", "Telemetry"],
        ["Cascade"] = ["Configuration", "Telemetry"],
        ["Models"] = ["Configuration", "Telemetry", "State", "Cascade"],
        ["Ranking"] = ["Configuration", "Telemetry", "State", "Cascade", "Models"],
        ["Recommend"] = ["Configuration", "Telemetry", "State", "Cascade", "Models", "Ranking"],
        ["Predict"] = ["Configuration", "Telemetry", "Cascade", "Models"],
        ["Text"] = ["Configuration", "Telemetry", "Cascade", "Models"],
        ["Ingestion"] = ["Configuration", "Telemetry", "State", "Cascade"],
        ["Stats"] = ["Configuration", "Telemetry", "State"],
        ["Security"] = ["Configuration", "Telemetry"],
        ["Experiments"] = ["Configuration", "Telemetry"],
        ["Api"] = ["Configuration", "Telemetry", "State", "Cascade", "Models", "Ranking", "Recommend", "Predict", "Text", "Ingestion", "Stats", "Security", "Experiments"],
        ["Hosting"] = ["Configuration", "Telemetry", "State", "Cascade", "Models", "Ranking", "Recommend", "Predict", "Text", "Ingestion", "Stats", "Security", "Experiments", "Api"],
    };

    private static IEnumerable<string> Sources(string folder) => Directory.EnumerateFiles(Path.Combine(TestData.RepositoryRoot, folder), "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    [Fact]
    public void InsideTheServer_NamespacesDependOneWay()
    {
        var wrong = new List<string>();
        foreach (var file in Sources("src/Lasthope.Server"))
        {
            var text = File.ReadAllText(file);
            var own = NamespaceLine().Match(text).Groups[1].Value;
            Assert.True(Allowed.ContainsKey(own), $"{file}: namespace Lasthope.Server.{own} is not in the drawn graph");
            foreach (Match use in UsingServer().Matches(text))
            {
                var used = use.Groups[1].Value;
                if (used != own && !Allowed[own].Contains(used, StringComparer.Ordinal))
                {
                    wrong.Add($"{Path.GetFileName(file)}: {own} -> {used}");
                }
            }
        }

        Assert.Empty(wrong);
    }

    [Theory]
    [InlineData("apps")]
    [InlineData("src/Lasthope.Training")]
    [InlineData("src/Lasthope.Client")]
    [InlineData("benchmarks")]
    public void OutsideTheServer_NothingUsesTheHttpLayer(string folder)
        => Assert.Empty(Sources(folder).Where(f => File.ReadAllText(f).Contains("Lasthope.Server.Api", StringComparison.Ordinal)).Select(Path.GetFileName));

    [Fact]
    public void TheServer_KnowsNoStoreImplementation_AndNoNativeCode_AndNoEncoderWeights()
    {
        var project = File.ReadAllText(Path.Combine(TestData.RepositoryRoot, "src", "Lasthope.Server", "Lasthope.Server.csproj"));
        Assert.DoesNotContain("Storage.Sqlite", project, StringComparison.Ordinal);
        Assert.DoesNotContain("Trees.Native", project, StringComparison.Ordinal);
        Assert.DoesNotContain("Text.Encoder", project, StringComparison.Ordinal);
        Assert.DoesNotContain("SentenceTransformers", project, StringComparison.Ordinal);
    }

    /// <summary>
    /// Commands only parse and print: the work lives in the libraries, where the server and the tests call it too. A
    /// command file past this length has grown a workflow of its own.
    /// </summary>
    [Fact]
    public void Commands_ParseAndPrint_InFilesOfAtMost300Lines()
    {
        const int MaxLines = 300;
        var tooLong = Sources("apps/lasthope/Commands")
            .Select(f => (File: Path.GetRelativePath(TestData.RepositoryRoot, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > MaxLines)
            .OrderByDescending(f => f.Lines)
            .Select(f => $"{f.File}: {f.Lines} lines")
            .ToList();
        Assert.True(tooLong.Count == 0, $"Commands longer than {MaxLines} lines (move their domain logic into a library): {string.Join("; ", tooLong)}");
    }

    [GeneratedRegex(@"^namespace Lasthope\.Server\.(\w+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"^using Lasthope\.Server\.(\w+)(?:\.\w+)*;", RegexOptions.Multiline)]
    private static partial Regex UsingServer();
}
