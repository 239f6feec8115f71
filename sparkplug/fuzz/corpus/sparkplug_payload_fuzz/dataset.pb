€è»Þ®3F
Downtime Š7reasonseconds"
2jam
"
2clean
ÿÿÿÿ