-- Report: rejects by reason.
SELECT reason, count(*) AS n FROM rejects GROUP BY reason ORDER BY n DESC, reason
