using Lasthope.Testing;
using Lasthope.Text.EditNeed;

namespace Lasthope.Text.Tests;

/// <summary>The IteraTeR loader: real documents into units whose edits rebuild the revision, and malformed files refused.</summary>
public sealed class EditNeedDataTests
{
    private static string Data => TestData.Require("text-revisions");

    [Fact]
    public void Load_SplitsTheRealDocumentsIntoSentences_WithUntouchedAndEditedOnes()
    {
        var documents = EditNeedData.Load(Data, EditNeedLevel.Sentence);
        var units = documents.SelectMany(d => d.Units).ToList();

        Assert.Equal(559, documents.Count);
        Assert.All(units, u => Assert.True(u.Rate >= 0 && u.Original.Length > 0));
        var untouched = units.Count(u => u.Rate == 0) / (double)units.Count;
        Assert.InRange(untouched, 0.2, 0.9);
        Assert.All(documents, d => Assert.Equal(Enumerable.Range(0, d.Units.Count), d.Units.Select(u => u.Index)));
        TestContext.Current.SendDiagnosticMessage($"{documents.Count} texts, {documents.Select(d => d.DocumentId).Distinct().Count()} documents, {units.Count} sentences, {untouched:P1} untouched, "
            + $"median rate {units.Select(u => u.Rate).Order().ElementAt(units.Count / 2):F3}, 80th percentile {units.Select(u => u.Rate).Order().ElementAt(units.Count * 8 / 10):F3}");
    }

    [Fact]
    public void Load_AtParagraphLevel_GivesOneParagraphPerDocument_AndTheFirstTestRateByHand()
    {
        var documents = EditNeedData.Load(Data, EditNeedLevel.Paragraph);

        Assert.All(documents, d => Assert.Single(d.Units));
        var prophet = documents.First(d => d.Key == "2001.04063@2" && d.Units[0].Original.StartsWith("In this paper ,", StringComparison.Ordinal)).Units[0];
        Assert.Equal(EditRate.Of(prophet.Original, prophet.Edited), prophet.Rate);
        Assert.InRange(prophet.Rate, 0.01, 0.2);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("{\"doc_id\": \"a\", \"before_revision\": \"Hello there.\"}")]
    [InlineData("{\"doc_id\": \"a\", \"before_revision\": \"Hello there.\", \"after_revision\": \"Hi there.\", \"edit_actions\": [{\"start_char_pos\": 5, \"end_char_pos\": 99, \"after\": \"x\"}]}")]
    [InlineData("{\"doc_id\": \"a\", \"before_revision\": \"Hello there.\", \"after_revision\": \"Hi there.\", \"edit_actions\": [{\"start_char_pos\": 0, \"end_char_pos\": 5, \"before\": \"Howdy\", \"after\": \"Hi\"}]}")]
    [InlineData("{\"doc_id\": \"a\", \"before_revision\": \"Hello there.\", \"after_revision\": \"Something else.\", \"edit_actions\": []}")]
    public void ReadFile_RefusesAMalformedLine_NamingTheFileAndLine(string line)
    {
        var dir = Directory.CreateTempSubdirectory("edit-need-");
        try
        {
            var path = Path.Combine(dir.FullName, "human_doc_level.test.json");
            File.WriteAllLines(path, ["{\"doc_id\": \"ok\", \"before_revision\": \"Hello there.\", \"after_revision\": \"Hi there.\", \"edit_actions\": [{\"start_char_pos\": 0, \"end_char_pos\": 5, \"before\": \"Hello\", \"after\": \"Hi\"}]}", line]);

            var e = Assert.Throws<EditNeedDataException>(() => EditNeedData.Load(dir.FullName, EditNeedLevel.Sentence));
            Assert.StartsWith("human_doc_level.test.json:2:", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Load_RefusesAFolderWithoutTheFiles()
    {
        var dir = Directory.CreateTempSubdirectory("edit-need-");
        try
        {
            Assert.Throws<EditNeedDataException>(() => EditNeedData.Load(dir.FullName, EditNeedLevel.Sentence));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
