using System.Globalization;

namespace PgIg.Synthetic;

/// <summary>Reads the plain-text arrays that <c>np.savetxt(..., delimiter=',')</c> writes (format %.18e).</summary>
public static class NumpyText
{
    /// <summary>All rows of a delimited numeric text file; every row must have the same width.</summary>
    public static double[][] LoadTxt(string path, char delimiter = ',')
    {
        var rows = new List<double[]>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line.TrimStart().StartsWith('#')) continue;
            var fields = line.Split(delimiter);
            var row = new double[fields.Length];
            for (int c = 0; c < fields.Length; c++)
            {
                if (!double.TryParse(fields[c].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out row[c]))
                    throw new FormatException($"{path}:{lineNumber}: '{fields[c]}' is not a number");
            }
            if (rows.Count > 0 && row.Length != rows[0].Length)
                throw new FormatException($"{path}:{lineNumber}: {row.Length} columns, expected {rows[0].Length}");
            rows.Add(row);
        }
        return [.. rows];
    }

    /// <summary>
    /// The value column of an "index,value" file (z.csv, y.csv and the attribution CSVs), checking
    /// that the index column counts 0, 1, 2, … as the notebook wrote it.
    /// </summary>
    public static double[] LoadIndexedColumn(string path)
    {
        var rows = LoadTxt(path);
        var values = new double[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != 2) throw new FormatException($"{path}: row {i} has {rows[i].Length} columns, expected index,value");
            if (rows[i][0] != i) throw new FormatException($"{path}: row {i} has index {rows[i][0]}");
            values[i] = rows[i][1];
        }
        return values;
    }
}
