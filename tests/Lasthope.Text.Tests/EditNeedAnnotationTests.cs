using Lasthope.Text.EditNeed;

namespace Lasthope.Text.Tests;

/// <summary>Wilson and Newcombe intervals by known answers, and the labels read back.</summary>
public sealed class EditNeedAnnotationTests
{
    [Fact]
    public void Wilson_Of30CorrectIn50_IsAbout46To72Percent()
    {
        // The example: 60% precision on 50 annotated highlights is not a precise figure.
        var w = EditNeedAnnotation.Wilson(30, 50);

        Assert.Equal(0.60, w.Estimate, 12);
        Assert.Equal(0.4618, w.Lower, 3);
        Assert.Equal(0.7239, w.Upper, 3);
    }

    [Fact]
    public void Wilson_StaysInsideZeroAndOne_AtTheEdges()
    {
        var none = EditNeedAnnotation.Wilson(0, 10);
        var all = EditNeedAnnotation.Wilson(10, 10);

        Assert.Equal(0, none.Lower);
        Assert.Equal(0.2775, none.Upper, 3); // z²/(n+z²) = 3.8415/13.8415
        Assert.Equal(1, all.Upper);
        Assert.True(double.IsNaN(EditNeedAnnotation.Wilson(0, 0).Estimate));
    }

    [Fact]
    public void NewcombeDifference_MatchesNewcombes1998Example()
    {
        // Newcombe (1998), Table II, example (a): 56/70 - 48/80 = 0.2000, method 10: 0.0524 to 0.3339.
        var d = EditNeedAnnotation.NewcombeDifference(56, 70, 48, 80);

        Assert.Equal(0.2, d.Estimate, 12);
        Assert.Equal(0.0524, d.Lower, 3);
        Assert.Equal(0.3339, d.Upper, 3);
    }

    [Fact]
    public void Score_CountsEachArm_AndARowInBothArmsInBoth()
    {
        var key = new AnnotationKey(EditNeedAnnotation.KeyFormat, 1, 1, 4, 2,
        [
            new AnnotationKeyRow("1", ["model"], 0, 0, 0.4),
            new AnnotationKeyRow("2", ["model", "random"], 0, 1, 0.3),
            new AnnotationKeyRow("3", ["random"], 0, 2, 0.1),
            new AnnotationKeyRow("4", ["random"], 0, 3, 0.0),
        ]);
        var labels = new Dictionary<string, bool?> { ["1"] = true, ["2"] = true, ["3"] = false, ["4"] = null };

        var s = EditNeedAnnotation.Score(labels, key);

        Assert.Equal((2, 2), (s.Model.NeedsEditing, s.Model.Labelled));
        Assert.Equal((1, 2), (s.Random.NeedsEditing, s.Random.Labelled));
        Assert.Equal(1, s.Unlabelled);
        Assert.Throws<AnnotationException>(() => EditNeedAnnotation.Score(new Dictionary<string, bool?> { ["9"] = true }, key));
    }
}
