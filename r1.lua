wrk.method="POST"; wrk.body=string.rep("x",120); wrk.headers["x-amz-target"]="TrentService.Encrypt"
function response(status, headers, body) if status > 299 then bad = (bad or 0) + 1 end end
function done(s,l,r) io.write("cpu=" .. os.clock() .. "\n") end
