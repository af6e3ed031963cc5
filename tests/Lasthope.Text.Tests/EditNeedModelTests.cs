using System.Text;
using Lasthope.Testing;
using Lasthope.Text.EditNeed;
using Lasthope.Training.Text;

namespace Lasthope.Text.Tests;

/// <summary>Training on real revisions (a subset), the served model's round trip, its bounds and its refusals.</summary>
public sealed class EditNeedModelTests
{
    private static readonly Lazy<EditNeedTrainingReport> Trained = new(() =>
    {
        var documents = EditNeedData.Load(TestData.Require("text-revisions"), EditNeedLevel.Sentence);
        return EditNeedTraining.Run([.. documents.Take(250)], new EditNeedTrainingOptions { Resamples = 200, HashBuckets = 64 }, new EditNeedLightGbm(threads: 2, iterations: 200), new HashingEncoder());
    });

    [Fact]
    public void Run_MeasuresEveryModelOnHeldOutDocumentsOnly_WithIntervalsAroundTheEstimates()
    {
        _ = TestData.Require("text-revisions");
        var report = Trained.Value;
        var c = report.Comparison;

        Assert.Equal([EditNeedTraining.RandomBaseline, EditNeedTraining.LengthBaseline, EditNeedTraining.OovBaseline, EditNeedTraining.TextTrees, EditNeedTraining.EncoderTrees], c.Models.Select(m => m.Name));
        Assert.All(c.Models, m => Assert.InRange(m.Precision.Estimate, m.Precision.Lower, m.Precision.Upper));
        Assert.All(c.Models, m => Assert.InRange(m.Spearman.Estimate, -1, 1));
        Assert.Equal(2, c.Differences.Count);
        Assert.True(c.Documents >= 20 && c.Units > c.Texts, $"{c.Documents} documents, {c.Texts} texts, {c.Units} units");
        Assert.True(report.Model.UsesEncoder);
        foreach (var m in c.Models)
        {
            TestContext.Current.SendDiagnosticMessage($"{m.Name}: spearman {m.Spearman}, precision {m.Precision}");
        }
    }

    [Fact]
    public void ToBytes_ThenLoad_PredictsTheSame_WithTheEncoderOrSayingItHasNone()
    {
        _ = TestData.Require("text-revisions");
        var model = Trained.Value.Model;
        const string document = "In this paper , we present a new model. It works good on many dataset.\n\nThe results is shown in Table 1. We thank the reviewers.";
        var bytes = model.ToBytes();
        Assert.Contains("\"format\":\"lasthope-edit-need/1\"", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);

        var withEncoder = EditNeedModel.Load(bytes, new HashingEncoder());
        var without = EditNeedModel.Load(bytes, null);
        var otherEncoder = EditNeedModel.Load(bytes, new HashingEncoder("another", 16));
        var expected = model.Predict(document);

        Assert.Equal(expected.Units.Select(u => u.Rate), withEncoder.Predict(document).Units.Select(u => u.Rate));
        Assert.True(expected.UsedEncoder);
        Assert.False(without.UsesEncoder);
        Assert.Contains("without an encoder", without.Note, StringComparison.Ordinal);
        Assert.Contains("another", otherEncoder.Note, StringComparison.Ordinal);
        var textOnly = without.Predict(document);
        Assert.False(textOnly.UsedEncoder);
        Assert.Equal(model.Predict(document, useEncoder: false).Units.Select(u => u.Rate), textOnly.Units.Select(u => u.Rate));
        Assert.Equal(4, expected.Units.Count);
        Assert.Equal([0, 0, 1, 1], expected.Units.Select(u => u.Paragraph));
        Assert.Equal(1, expected.Units.Count(u => u.Highlighted)); // ceil(0.2 x 4)
        Assert.All(expected.Units, u => Assert.Equal(u.Text, document.Substring(u.Start, u.Length).Trim()));
    }

    [Fact]
    public void Load_RefusesMalformedContent_WithOneExceptionType()
    {
        _ = TestData.Require("text-revisions");
        var good = Encoding.UTF8.GetString(Trained.Value.Model.ToBytes());
        string[] bad =
        [
            "", "null", "[]", "{", "not json", good[..(good.Length / 2)],
            good.Replace("lasthope-edit-need/1", "lasthope-edit-need/9", StringComparison.Ordinal),
            good.Replace("\"level\":\"sentence\"", "\"level\":\"word\"", StringComparison.Ordinal),
            good.Replace("\"highlightShare\":0.2", "\"highlightShare\":7", StringComparison.Ordinal),
            good.Replace("\"hashBuckets\":64", "\"hashBuckets\":65", StringComparison.Ordinal),
            good.Replace("\"textModel\":\"tree", "\"textModel\":\"eert", StringComparison.Ordinal),
            good.Replace("\"name\":\"hashing-test\"", "\"name\":\"\"", StringComparison.Ordinal),
            good.Replace("\"dimensions\":16", "\"dimensions\":15", StringComparison.Ordinal),
            good.Replace("\"featureNames\":[\"tokens\"", "\"featureNames\":[\"tokenz\"", StringComparison.Ordinal),
        ];
        foreach (var content in bad)
        {
            Assert.Throws<EditNeedModelException>(() => EditNeedModel.Load(Encoding.UTF8.GetBytes(content), new HashingEncoder()));
        }
    }

    [Fact]
    public void Predict_RefusesABlankOrOversizedDocument()
    {
        _ = TestData.Require("text-revisions");
        var model = Trained.Value.Model;

        Assert.Throws<ArgumentException>(() => model.Predict("   \n "));
        Assert.Throws<ArgumentException>(() => model.Predict(new string('a', EditNeedModel.MaxDocumentChars + 1)));
        Assert.Throws<ArgumentException>(() => model.Predict(string.Join("\n", Enumerable.Repeat("A line.", EditNeedModel.MaxParagraphs + 1))));
        Assert.Contains("units", EditNeedModel.Problem(string.Concat(Enumerable.Repeat("A b. ", EditNeedModel.MaxUnits + 1)), EditNeedLevel.Sentence), StringComparison.Ordinal);
    }
}
