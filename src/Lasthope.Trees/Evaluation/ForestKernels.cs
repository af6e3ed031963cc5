using System.Numerics;
using System.Runtime.CompilerServices;

namespace Lasthope.Trees.Evaluation;

/// <summary>
/// The evaluation kernels. A block of up to <see cref="CompiledForest.BlockSize"/> documents is first turned into slot
/// values (<see cref="Preprocess{T}"/>), stored slot-major; then every tree walks the block eight documents at a time.
/// <para>
/// Cost model (the maths next to the kernel): a tree of depth D costs D steps per document. Each step is three loads
/// (the node, the slot value, the chosen child via the node's own line) and a compare; a single document's steps form a
/// dependency chain of about 4 + 4 + 1 cycles of load latency, so one document at a time leaves the core idle. Eight
/// independent chains keep the load ports busy: the bound becomes throughput (about 1-1.5 cycles a step) instead of
/// latency (about 10). Leaves point to themselves, so all eight walk exactly D steps with no exit test and no branch
/// that depends on the data; a shallow leaf wastes a few steps, which is cheaper than a mispredicted exit.
/// </para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class ForestKernels
{
    /// <summary>
    /// Writes slot values for <paramref name="count"/> documents of <paramref name="rows"/> (row-major,
    /// <paramref name="featureCount"/> values each) into <paramref name="x"/>: slot s of document d at
    /// <c>x[s * columns + d]</c>.
    /// </summary>
    public static void Preprocess<T>(CompiledForest forest, T* rows, int featureCount, int count, T* x, int columns)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        fixed (int* slotFeature = forest.SlotFeature)
        {
            foreach (var (kind, start, end) in forest.SlotRanges)
            {
                switch (kind)
                {
                    case SlotKind.Plain: Fill<T, PlainTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.ZeroLeft: Fill<T, ZeroLeftTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.ZeroRight: Fill<T, ZeroRightTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.NaNLeft: Fill<T, NaNLeftTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.NaNRight: Fill<T, NaNRightTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.FloatLeft: Fill<T, FloatLeftTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    case SlotKind.FloatRight: Fill<T, FloatRightTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                    default: Fill<T, RawTransform>(slotFeature, start, end, rows, featureCount, count, x, columns); break;
                }
            }
        }
    }

    private static void Fill<T, TTransform>(int* slotFeature, int start, int end, T* rows, int featureCount, int count, T* x, int columns)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
        where TTransform : ISlotTransform
    {
        for (var s = start; s < end; s++)
        {
            var source = rows + slotFeature[s];
            var target = x + ((nint)s * columns);
            for (var d = 0; d < count; d++)
            {
                target[d] = TTransform.Apply(source[(nint)d * featureCount]);
            }
        }
    }

    /// <summary>
    /// Adds trees [<paramref name="treeFrom"/>, <paramref name="treeTo"/>) to <paramref name="accumulator"/> for
    /// <paramref name="groups"/> groups of eight documents. Numerical splits only. The sum is taken tree by tree in
    /// model order, as LightGBM does, so double-precision scores match it to the bit.
    /// </summary>
    public static void AddTrees<T>(CompiledForest forest, T* x, int groups, double* accumulator, int treeFrom, int treeTo)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var nodes = forest.Nodes<T>();
        fixed (int* roots = forest.Root)
        fixed (int* depths = forest.Depth)
        fixed (double* value = forest.Value)
        {
            for (var t = treeFrom; t < treeTo; t++)
            {
                var root = roots[t];
                var depth = depths[t];
                for (var g = 0; g < groups; g++)
                {
                    var xs = x + (g * 8);
                    int n0 = root, n1 = root, n2 = root, n3 = root, n4 = root, n5 = root, n6 = root, n7 = root;
                    for (var k = 0; k < depth; k++)
                    {
                        n0 = Step(nodes + n0, xs + 0);
                        n1 = Step(nodes + n1, xs + 1);
                        n2 = Step(nodes + n2, xs + 2);
                        n3 = Step(nodes + n3, xs + 3);
                        n4 = Step(nodes + n4, xs + 4);
                        n5 = Step(nodes + n5, xs + 5);
                        n6 = Step(nodes + n6, xs + 6);
                        n7 = Step(nodes + n7, xs + 7);
                    }

                    var a = accumulator + (g * 8);
                    a[0] += value[n0];
                    a[1] += value[n1];
                    a[2] += value[n2];
                    a[3] += value[n3];
                    a[4] += value[n4];
                    a[5] += value[n5];
                    a[6] += value[n6];
                    a[7] += value[n7];
                }
            }
        }
    }

    /// <summary>One step, branch-free: the comparison becomes 0 or 1 and indexes the child pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Step<T>(Node<T>* node, T* xs)
        where T : unmanaged, IBinaryFloatingPointIeee754<T> =>
        (&node->Left)[xs[node->SlotOffset] <= node->Threshold ? 0 : 1];

    /// <summary>
    /// The general kernel for models with categorical splits: one document at a time, a branch per node on its kind.
    /// Used only when the model has categorical splits; <paramref name="x"/> has <see cref="CompiledForest.BlockSize"/> columns.
    /// </summary>
    public static void AddTreesGeneral<T>(CompiledForest forest, T* x, int count, double* accumulator, int treeFrom, int treeTo)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        fixed (double* value = forest.Value)
        {
            for (var t = treeFrom; t < treeTo; t++)
            {
                var root = forest.Root[t];
                var leafStart = forest.LeafStart[t];
                for (var d = 0; d < count; d++)
                {
                    var node = root;
                    while (node < leafStart)
                    {
                        node = Next(forest, node, x, CompiledForest.BlockSize, d);
                    }

                    accumulator[d] += value[node];
                }
            }
        }
    }

    /// <summary>The child a document goes to, for any node kind (the scalar path: explanations, leaf indices).</summary>
    public static int Next<T>(CompiledForest forest, int node, T* x, int columns, int doc)
        where T : unmanaged, IBinaryFloatingPointIeee754<T>
    {
        var v = x[((nint)forest.NodeSlot[node] * columns) + doc];
        if (forest.IsCategorical[node])
        {
            return InCategorySet(forest, node, double.CreateTruncating(v)) ? forest.Left[node] : forest.Right[node];
        }

        return v <= forest.Threshold<T>(node) ? forest.Left[node] : forest.Right[node];
    }

    /// <summary>
    /// LightGBM's CategoricalDecision (tree.h): the value is cast to int; NaN and negative values go right (on x86 the
    /// C++ cast of NaN or of a value beyond int range yields INT_MIN, which is negative); otherwise the category goes
    /// left when its bit is set in the node's bitset.
    /// </summary>
    private static bool InCategorySet(CompiledForest forest, int node, double v)
    {
        if (!(v > -1.0 && v < 2147483648.0))
        {
            return false;
        }

        var category = (int)v;
        var word = category >> 5;
        if (word >= forest.CatLength[node])
        {
            return false;
        }

        return ((forest.CatBits[forest.CatOffset[node] + word] >> (category & 31)) & 1) != 0;
    }
}
