namespace Lasthope.Trees;

/// <summary>The file format a <see cref="TreeModel"/> was loaded from.</summary>
public enum ModelFormat
{
    /// <summary>LightGBM's text model (<c>Booster.save_model</c>, <c>model.txt</c>), versions v3 and v4.</summary>
    LightGbmText,

    /// <summary>XGBoost's JSON model (<c>Booster.save_model("model.json")</c>), gbtree booster.</summary>
    XGBoostJson,
}

/// <summary>
/// How a raw score (the sum of the trees' outputs, the "margin") becomes the objective's prediction. Ranking uses raw
/// scores; a binary classifier's probability is <see cref="Sigmoid"/> of the raw score; a multiclass model's class
/// probabilities are the <see cref="Softmax"/> of its raw scores.
/// </summary>
public enum OutputTransform
{
    /// <summary>The raw score is the prediction (lambdarank, rank:ndcg, regression with L2/L1/Huber/quantile loss, ...).</summary>
    Identity,

    /// <summary>1 / (1 + exp(-a * raw)), with a = <see cref="TreeModel.SigmoidScale"/> (binary, xentropy, binary:logistic).</summary>
    Sigmoid,

    /// <summary>exp(raw) (poisson, gamma, tweedie).</summary>
    Exponential,

    /// <summary>sign(raw) * raw^2 (LightGBM regression trained with <c>reg_sqrt</c>).</summary>
    SignedSquare,

    /// <summary>
    /// exp(raw_k - max) / sum_j exp(raw_j - max) over a document's classes (LightGBM <c>multiclass</c>, XGBoost
    /// <c>multi:softprob</c> and <c>multi:softmax</c>). A one-vs-all model (<c>multiclassova</c>) uses
    /// <see cref="Sigmoid"/> per class instead.
    /// </summary>
    Softmax,
}
