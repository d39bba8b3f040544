wrk.method="POST"; wrk.body=string.rep("x",120); wrk.headers["x-amz-target"]="TrentService.Encrypt"
function done(s,l,r) io.write("cpu=" .. os.clock() .. "\n") end
