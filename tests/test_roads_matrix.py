"""External matrix import: every problem reported at once, with line numbers."""

from __future__ import annotations

import numpy as np
import pytest

from sitefinder.errors import DataError
from sitefinder.roads.matrix import read_matrix_csv

ORIGINS = ["A1", "A2"]
SCHOOLS = ["100", "200", "300"]


def write(tmp_path, text: str):
    path = tmp_path / "matrix.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_matrix_with_inf_for_missing_pairs(tmp_path):
    path = write(
        tmp_path,
        "origin_id,destination_id,minutes,extra\nA1,100,12.5,x\nA2,300,0,y\n A1 ,200, 7 ,z\n",
    )
    matrix = read_matrix_csv(path, origin_ids=ORIGINS, destination_ids=SCHOOLS)
    expected = np.array([[12.5, 7.0, np.inf], [np.inf, np.inf, 0.0]])
    np.testing.assert_array_equal(matrix, expected)


def test_collects_every_problem(tmp_path):
    path = write(
        tmp_path,
        "origin_id,destination_id,minutes\n"
        "A1,100,10\n"  # line 2
        "A9,100,5\n"  # line 3: unknown origin
        "A1,200,-3\n"  # line 4: negative
        "A1,100,11\n"  # line 5: duplicate of line 2
        "A2,999,4\n"  # line 6: unknown destination
        "A2,100,soon\n"  # line 7: not a number
        "A2,200,\n"  # line 8: blank
        "A2,300,inf\n",  # line 9: not finite
    )
    with pytest.raises(DataError) as caught:
        read_matrix_csv(path, origin_ids=ORIGINS, destination_ids=SCHOOLS)
    assert caught.value.problems == [
        "matrix.csv: line 3: origin_id 'A9' is not a known origin",
        "matrix.csv: line 4: minutes is -3; journey minutes cannot be negative",
        "matrix.csv: line 5: pair 'A1' to '100' repeats line 2; give each pair once",
        "matrix.csv: line 6: destination_id '999' is not a known destination",
        "matrix.csv: line 7: minutes is 'soon'; give a number of minutes",
        "matrix.csv: line 8: minutes is blank; give a number of minutes",
        "matrix.csv: line 9: minutes is inf; leave unreachable pairs out instead",
    ]


def test_missing_columns_and_file(tmp_path):
    path = write(tmp_path, "from,to,minutes\nA1,100,3\n")
    with pytest.raises(DataError) as caught:
        read_matrix_csv(path, origin_ids=ORIGINS, destination_ids=SCHOOLS)
    assert caught.value.problems == [
        "matrix.csv: missing columns origin_id, destination_id (the file has: from, to, minutes)"
    ]
    with pytest.raises(DataError, match="cannot open the matrix file"):
        read_matrix_csv(tmp_path / "nope.csv", origin_ids=ORIGINS, destination_ids=SCHOOLS)
