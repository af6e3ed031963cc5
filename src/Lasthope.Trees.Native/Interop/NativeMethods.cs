using System.Runtime.InteropServices;

namespace Lasthope.Trees.Native.Interop;

/// <summary>
/// lib_lightgbm's C API (include/LightGBM/c_api.h upstream), as shipped in the <c>LightGBM</c> NuGet package. Every
/// function returns 0 on success and -1 on failure, with the message in <see cref="GetLastError"/>; callers go through
/// <see cref="LightGbmException.Check"/>. Handles are <see cref="DatasetHandle"/> and <see cref="BoosterHandle"/>.
/// </summary>
internal static unsafe partial class NativeMethods
{
    private const string Library = "lib_lightgbm";

    public const int DTypeFloat32 = 0;
    public const int DTypeFloat64 = 1;
    public const int DTypeInt32 = 2;

    public const int PredictNormal = 0;
    public const int PredictRawScore = 1;
    public const int PredictLeafIndex = 2;
    public const int PredictContrib = 3;

    // The OpenMP runtime reads its environment when lib_lightgbm (and with it libgomp) is first loaded, which happens
    // at the first call of any function below; the static constructor runs before that.
    static NativeMethods() => OpenMpEnvironment.Configure();

    [LibraryImport(Library, EntryPoint = "LGBM_GetLastError")]
    public static partial nint GetLastError();

    // Datasets
    [LibraryImport(Library, EntryPoint = "LGBM_DatasetCreateFromMat", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int DatasetCreateFromMat(void* data, int dataType, int rows, int columns, int isRowMajor, string parameters, nint reference, out DatasetHandle handle);

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetSetField", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int DatasetSetField(DatasetHandle handle, string field, void* data, int count, int type);

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetSetFeatureNames")]
    public static partial int DatasetSetFeatureNames(DatasetHandle handle, nint* names, int count);

    [LibraryImport(Library, EntryPoint = "LGBM_DatasetFree")]
    public static partial int DatasetFree(nint handle);

    // Boosters
    [LibraryImport(Library, EntryPoint = "LGBM_BoosterCreate", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int BoosterCreate(DatasetHandle train, string parameters, out BoosterHandle handle);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterCreateFromModelfile", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int BoosterCreateFromModelfile(string path, out int iterations, out BoosterHandle handle);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterLoadModelFromString", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int BoosterLoadModelFromString(string model, out int iterations, out BoosterHandle handle);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterFree")]
    public static partial int BoosterFree(nint handle);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterAddValidData")]
    public static partial int BoosterAddValidData(BoosterHandle handle, DatasetHandle valid);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterUpdateOneIter")]
    public static partial int BoosterUpdateOneIter(BoosterHandle handle, out int isFinished);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterGetCurrentIteration")]
    public static partial int BoosterGetCurrentIteration(BoosterHandle handle, out int iteration);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterGetNumFeature")]
    public static partial int BoosterGetNumFeature(BoosterHandle handle, out int count);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterGetEvalCounts")]
    public static partial int BoosterGetEvalCounts(BoosterHandle handle, out int count);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterGetEvalNames")]
    public static partial int BoosterGetEvalNames(BoosterHandle handle, int length, out int count, nuint bufferLength, out nuint requiredLength, byte** names);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterGetEval")]
    public static partial int BoosterGetEval(BoosterHandle handle, int dataIndex, out int count, double* results);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterSaveModelToString")]
    public static partial int BoosterSaveModelToString(BoosterHandle handle, int startIteration, int iterations, int importanceType, long bufferLength, out long length, byte* buffer);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterCalcNumPredict")]
    public static partial int BoosterCalcNumPredict(BoosterHandle handle, int rows, int predictType, int startIteration, int iterations, out long length);

    [LibraryImport(Library, EntryPoint = "LGBM_BoosterPredictForMat", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int BoosterPredictForMat(BoosterHandle handle, void* data, int dataType, int rows, int columns, int isRowMajor,
        int predictType, int startIteration, int iterations, string parameters, out long length, double* result);
}

/// <summary>A LightGBM dataset (<c>DatasetHandle</c>), freed with <c>LGBM_DatasetFree</c>.</summary>
internal sealed class DatasetHandle : SafeHandle
{
    public DatasetHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => NativeMethods.DatasetFree(handle) == 0;
}

/// <summary>A LightGBM booster (<c>BoosterHandle</c>), freed with <c>LGBM_BoosterFree</c>.</summary>
internal sealed class BoosterHandle : SafeHandle
{
    public BoosterHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle() => NativeMethods.BoosterFree(handle) == 0;
}
